import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { ConnectionSpec } from '../connection-spec.js';
import { connectionFailureReason } from '../connection-failure.js';
import { reconnect } from '../reconnection-policy.js';
import { reconnectingDialect } from '../reconnecting-dialect.js';
import { databaseHandle, type EngineOpening, type SqlDatabase } from '../sql-database.js';
import { connectError } from './connect-error.js';
import { PreparedStatements, preparingPool } from './postgres-pool.js';
import { errorCode, messageLooksRetryable, schemaChannelName, type EngineTraits, type Notifications } from './engine-traits.js';

const TIMESTAMP_WITHOUT_TIME_ZONE = 1114;

// Argo's columns are `timestamp` without zone; argosync always writes UTC, so it must read them as UTC too.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMP_WITHOUT_TIME_ZONE
      ? (value: string) => new Date(`${value.replace(' ', 'T')}Z`)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

// ...and write Dates as UTC wall time, since a zone offset sent into a `timestamp` column is silently dropped.
pg.defaults.parseInputDatesAsUTC = true;

function clientConfig(spec: ConnectionSpec): pg.ClientConfig {
  const ssl = spec.ssl && spec.sslMode !== 'disable' ? { rejectUnauthorized: spec.sslMode === 'verify-ca' || spec.sslMode === 'verify-full' } : false;
  return {
    host: spec.host ?? 'localhost',
    port: spec.port ?? 5432,
    database: spec.database,
    user: spec.user,
    password: spec.password,
    ssl,
    connectionTimeoutMillis: (spec.connectionTimeoutSeconds ?? 5) * 1000,
    options: `-c timezone=UTC${spec.schema ? ` -c search_path=${spec.schema}` : ''}`,
    types,
  };
}

/** PostgreSQL through `pg`: serialization failures 40001/40P01, advisory-lock migrations, LISTEN/NOTIFY. */
export async function openPostgres(spec: ConnectionSpec, opening: EngineOpening): Promise<SqlDatabase> {
  const config = clientConfig(spec);
  const probe = new pg.Client(config);
  try {
    await probe.connect();
    if (spec.schema) await createSchema(probe, spec.schema);
  } catch (error) {
    throw connectError(spec, error);
  } finally {
    await probe.end().catch(() => undefined);
  }
  const pool = new pg.Pool({ ...config, ...poolSizing(spec) });
  // A connection dropped by the server must not crash the process: the query in flight fails, the pool replaces it.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const { description, reconnected } = opening;
  const prepared = new PreparedStatements(() =>
    opening.log.warn(`${opening.name} did not keep a prepared statement (a transaction-pooling proxy such as PgBouncer, or a session moved to a new server after a restart): statements run unprepared from now on`),
  );
  const db = new Kysely<unknown>({ dialect: reconnectingDialect(new PostgresDialect({ pool: preparingPool(pool, prepared) }), opening) });
  const listener = new PostgresListener(config, opening);
  return databaseHandle({ db, description, engine: postgresTraits(db, listener, schemaChannelName(spec.schema), prepared) }, reconnected, async () => {
    await listener.close();
    await db.destroy();
  });
}

/**
 * `pg`'s pool, sized as Go's database/sql would be by Argo's `connectionPool`: `maxIdleConns` connections stay open
 * while idle and any more close as soon as they are idle; `connMaxLifetime` retires a connection once it is that old.
 * Unset, `pg`'s own defaults: idle connections close after 10 s, and none is retired for its age.
 */
function poolSizing(spec: ConnectionSpec): pg.PoolConfig {
  const max = spec.maxOpenConns ?? 10;
  return {
    max,
    ...(spec.maxIdleConns === undefined ? {} : { min: Math.min(spec.maxIdleConns, max), idleTimeoutMillis: 1 }),
    ...(spec.connMaxLifetimeMs === undefined ? {} : { maxLifetimeSeconds: spec.connMaxLifetimeMs / 1000 }),
  };
}

/**
 * Creates the schema unless it exists: `create schema if not exists` alone needs CREATE on the database even
 * when the schema is there, which a least-privilege user given only its schema does not have. It is not atomic
 * either: two processes opening a new schema at once (two controllers starting) can both try to create it, and
 * the loser gets a unique violation on the catalog. The schema exists then.
 */
async function createSchema(client: pg.Client, schema: string): Promise<void> {
  if ((await client.query('select 1 from pg_namespace where nspname = $1', [schema])).rowCount) return;
  try {
    await client.query(`create schema if not exists "${schema.replace(/"/g, '""')}"`);
  } catch (error) {
    if (!['23505', '42P06'].includes(String(errorCode(error)))) throw error;
  }
}

function postgresTraits(db: Kysely<unknown>, listener: PostgresListener, channelName: (channel: string) => string, prepared: PreparedStatements): EngineTraits {
  return {
    driver: 'postgresql',
    isRetryableTransactionError: (error) => ['40001', '40P01'].includes(String(errorCode(error))) || messageLooksRetryable(error),
    isUniqueViolation: (error) => errorCode(error) === '23505',
    async withMigrationLock(lockDb, name, fn) {
      // Session-level advisory locks belong to one connection, so take and free it on the same one.
      return lockDb.connection().execute(async (connection) => {
        await sql`select pg_advisory_lock(hashtext(${name}))`.execute(connection);
        try {
          return await fn();
        } finally {
          await sql`select pg_advisory_unlock(hashtext(${name}))`.execute(connection);
        }
      });
    },
    notifications: {
      listen: (channel, onPayload) => listener.listen(channelName(channel), onPayload),
      async notify(channel, payload, within = db) {
        await sql`select pg_notify(${channelName(channel)}, ${payload})`.execute(within);
      },
      channelName,
    } satisfies Notifications,
    jsonColumnType: 'jsonb',
    supportsIndexIfNotExists: true,
    upsert: 'onConflict',
    keepPrepared: (sqlText) => prepared.keep(sqlText),
  };
}

/** The LISTEN connection of the moment and the channels it listens on. */
interface ListeningClient {
  readonly client: pg.Client;
  readonly channels: Set<string>;
}

/**
 * One dedicated connection for LISTEN, opened on first use. When the server drops it, it is re-established
 * with the reconnection policy until it succeeds (or the database is closed), every channel is listened on
 * again, and the database's reconnected listeners are told: notifications sent meanwhile were lost.
 */
class PostgresListener {
  readonly #config: pg.ClientConfig;
  readonly #opening: EngineOpening;
  readonly #handlers = new Map<string, Set<(payload: string) => void>>();
  /** The connection, or the (re)connection under way. */
  #client: Promise<ListeningClient> | undefined;
  #current: ListeningClient | undefined;
  readonly #closing = new AbortController();

  constructor(config: pg.ClientConfig, opening: EngineOpening) {
    this.#config = config;
    this.#opening = opening;
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    let handlers = this.#handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
    }
    handlers.add(onPayload);
    this.#client ??= this.#connect().then(
      (listening) => this.#adopt(listening),
      (error: unknown) => {
        this.#client = undefined;
        throw error;
      },
    );
    await listenOn(await this.#client, channel);
    return async () => {
      handlers.delete(onPayload);
    };
  }

  /** Ends the connection; a connection or re-listen under way ends its own client when it completes. */
  async close(): Promise<void> {
    this.#closing.abort();
    this.#handlers.clear();
    const listening = this.#current;
    this.#current = undefined;
    this.#client = undefined;
    await listening?.client.end().catch(() => undefined);
  }

  /** Makes `listening` the connection of the moment, unless the listener was closed while it connected. */
  async #adopt(listening: ListeningClient): Promise<ListeningClient> {
    if (this.#closing.signal.aborted) {
      await listening.client.end().catch(() => undefined);
      throw new Error('the LISTEN connection was closed');
    }
    this.#current = listening;
    return listening;
  }

  /** A new connection listening on every channel with handlers. */
  async #connect(): Promise<ListeningClient> {
    const client = new pg.Client(this.#config);
    const listening: ListeningClient = { client, channels: new Set() };
    client.on('notification', (message) => {
      for (const handler of this.#handlers.get(message.channel) ?? []) handler(message.payload ?? '');
    });
    client.on('error', (error) => this.#dropped(listening, error));
    client.on('end', () => this.#dropped(listening, new Error('connection terminated')));
    try {
      await client.connect();
      for (const channel of this.#handlers.keys()) await listenOn(listening, channel);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return listening;
  }

  #dropped(listening: ListeningClient, error: Error): void {
    if (this.#closing.signal.aborted || this.#current !== listening) return;
    this.#current = undefined;
    const { name, log } = this.#opening;
    log.warn(`${name}: LISTEN connection lost (${connectionFailureReason(error) ?? error.message}); re-listening`);
    void listening.client.end().catch(() => undefined);
    const relistening = this.#relisten();
    // A close during the loop ends it with an error nobody awaits.
    relistening.catch(() => undefined);
    this.#client = relistening;
  }

  async #relisten(): Promise<ListeningClient> {
    const { name, log, reconnection, reconnected } = this.#opening;
    const listening = await reconnect(() => this.#connect(), {
      policy: reconnection,
      what: `re-listening on ${name}`,
      log,
      untilSucceeded: true,
      signal: this.#closing.signal,
    });
    await this.#adopt(listening);
    log.info(`${name}: LISTEN re-established on ${[...listening.channels].join(', ')}`);
    reconnected.emit();
    return listening;
  }
}

async function listenOn(listening: ListeningClient, channel: string): Promise<void> {
  if (listening.channels.has(channel)) return;
  await listening.client.query(`listen "${channel.replace(/"/g, '""')}"`);
  listening.channels.add(channel);
}
