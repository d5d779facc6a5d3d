import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { ConnectionSpec } from '../connection-spec.js';
import { databaseHandle, type SqlDatabase } from '../sql-database.js';
import { connectError } from './connect-error.js';
import { errorCode, messageLooksRetryable, type EngineTraits, type Notifications } from './engine-traits.js';

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
export async function openPostgres(spec: ConnectionSpec, description: string): Promise<SqlDatabase> {
  const config = clientConfig(spec);
  const probe = new pg.Client(config);
  try {
    await probe.connect();
    if (spec.schema) await probe.query(`create schema if not exists "${spec.schema.replace(/"/g, '""')}"`);
  } catch (error) {
    throw connectError(spec, error);
  } finally {
    await probe.end().catch(() => undefined);
  }
  const pool = new pg.Pool({ ...config, max: spec.maxOpenConns ?? 10 });
  // A connection dropped by the server must not crash the process: the query in flight fails, the pool replaces it.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const listener = new PostgresListener(config);
  return databaseHandle({ db, description, engine: postgresTraits(db, listener) }, async () => {
    await listener.close();
    await db.destroy();
  });
}

function postgresTraits(db: Kysely<unknown>, listener: PostgresListener): EngineTraits {
  return {
    driver: 'postgresql',
    isRetryableTransactionError: (error) => ['40001', '40P01'].includes(String(errorCode(error))) || messageLooksRetryable(error),
    relaxCommitDurability: async (transaction) => {
      await sql`set local synchronous_commit = off`.execute(transaction);
    },
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
      listen: (channel, onPayload) => listener.listen(channel, onPayload),
      async notify(channel, payload, within = db) {
        await sql`select pg_notify(${channel}, ${payload})`.execute(within);
      },
    } satisfies Notifications,
    jsonColumnType: 'jsonb',
    supportsIndexIfNotExists: true,
    upsert: 'onConflict',
  };
}

/** One dedicated connection for LISTEN, opened on first use and re-opened when the server drops it. */
class PostgresListener {
  readonly #config: pg.ClientConfig;
  readonly #handlers = new Map<string, Set<(payload: string) => void>>();
  #client: Promise<pg.Client> | undefined;

  constructor(config: pg.ClientConfig) {
    this.#config = config;
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    const client = await this.#connect();
    let handlers = this.#handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
      await client.query(`listen "${channel.replace(/"/g, '""')}"`);
    }
    handlers.add(onPayload);
    return async () => {
      handlers.delete(onPayload);
    };
  }

  #connect(): Promise<pg.Client> {
    this.#client ??= (async () => {
      const client = new pg.Client(this.#config);
      client.on('notification', (message) => {
        for (const handler of this.#handlers.get(message.channel) ?? []) handler(message.payload ?? '');
      });
      client.on('error', () => {
        this.#client = undefined;
        void this.#relisten();
      });
      await client.connect();
      return client;
    })();
    return this.#client;
  }

  async #relisten(): Promise<void> {
    if (this.#handlers.size === 0) return;
    try {
      const client = await this.#connect();
      for (const channel of this.#handlers.keys()) await client.query(`listen "${channel.replace(/"/g, '""')}"`);
    } catch {
      this.#client = undefined;
    }
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#handlers.clear();
    if (client) await (await client).end().catch(() => undefined);
  }
}
