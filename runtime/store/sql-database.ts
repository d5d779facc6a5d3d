import { redactUrl } from '../redact.js';
import { isSqlIdentifier, SQL_IDENTIFIER_HINT } from './sql-identifier.js';
import { sql, type Kysely } from 'kysely';
import type { ConnectionSpec, Driver } from './connection-spec.js';
import type { EngineTraits } from './engines/engine-traits.js';
import { InvalidArgumentError } from '../errors.js';
import { addressOf, nameInOutages, type DatabaseRole } from './database-role.js';
import { DEFAULT_RECONNECTION_POLICY, reconnect, silentReconnectionLog, type ReconnectionLog, type ReconnectionPolicy } from './reconnection-policy.js';

/** An open database: kysely over one of the three engines, and what differs between them. */
export interface SqlDatabase {
  // Each store module declares the tables it touches; the handle itself is schema-agnostic.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly db: Kysely<any>;
  readonly engine: EngineTraits;
  /** e.g. `postgresql at 127.0.0.1:5432/test`; never contains a password. */
  readonly description: string;
  /**
   * Calls `listener` whenever the database answers again after an outage, and after every re-established
   * LISTEN: changes announced meanwhile may have been missed. The result stops it.
   */
  onReconnected(listener: () => void): () => void;
  /** Closes every connection; safe to call twice. */
  destroy(): Promise<void>;
}

/** How a database is opened besides its connection: its role in messages, and how outages are ridden out. */
export interface OpenOptions {
  readonly role?: DatabaseRole;
  /** The section's `reconnectionConfig`; Argo's defaults otherwise. */
  readonly reconnection?: ReconnectionPolicy;
  readonly log?: ReconnectionLog;
}

/** What an engine opener receives: the options with their defaults, and the hooks its handle fires. */
export interface EngineOpening {
  readonly description: string;
  /** `sync database postgresql at db:5432`, as outage messages and logs name the database. */
  readonly name: string;
  readonly reconnection: ReconnectionPolicy;
  readonly log: ReconnectionLog;
  readonly reconnected: ReconnectedListeners;
}

/** The listeners of `SqlDatabase.onReconnected`. */
export class ReconnectedListeners {
  readonly #listeners = new Set<() => void>();

  add(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  readonly emit = (): void => {
    for (const listener of this.#listeners) listener();
  };
}

// Each engine and its driver load on first use: a runtime on one engine never pays for the other two.
const OPENERS: Record<Driver, (spec: ConnectionSpec, opening: EngineOpening) => Promise<SqlDatabase>> = {
  postgresql: async (spec, opening) => (await import('./engines/postgres.js')).openPostgres(spec, opening),
  mysql: async (spec, opening) => (await import('./engines/mysql.js')).openMysql(spec, opening),
  pglite: async (spec, opening) => (await import('./engines/pglite.js')).openPglite(spec, opening),
};

/** The handle every engine returns: `destroy` runs `close` once, however often it is called. */
export function databaseHandle(
  parts: Omit<SqlDatabase, 'destroy' | 'onReconnected'>,
  reconnected: ReconnectedListeners,
  close: () => Promise<void>,
): SqlDatabase {
  let closing: Promise<void> | undefined;
  return { ...parts, onReconnected: (listener) => reconnected.add(listener), destroy: () => (closing ??= close()) };
}

/** Whether the database answers: one trivial round trip. */
export async function pingDatabase(database: SqlDatabase): Promise<void> {
  await sql`select 1`.execute(database.db);
}

/** Opens a database; fails with `cannot connect to <driver> at <host:port>: <cause>` when it cannot. */
export function openDatabase(spec: ConnectionSpec, options: OpenOptions = {}): Promise<SqlDatabase> {
  return OPENERS[spec.driver](spec, {
    description: describeSpec(spec),
    name: nameInOutages(options.role ?? 'database', spec),
    reconnection: options.reconnection ?? DEFAULT_RECONNECTION_POLICY,
    log: options.log ?? silentReconnectionLog,
    reconnected: new ReconnectedListeners(),
  });
}

/**
 * Opens a database at start-up: one that cannot be reached yet is waited for with the reconnection policy,
 * each attempt logged at warn, before giving up with `cannot connect to …`. A refusal such as a wrong
 * password fails at once.
 */
export function waitForDatabase(spec: ConnectionSpec, options: OpenOptions = {}): Promise<SqlDatabase> {
  return reconnect(() => openDatabase(spec, options), {
    policy: options.reconnection ?? DEFAULT_RECONNECTION_POLICY,
    what: `waiting for the ${nameInOutages(options.role ?? 'database', spec)}`,
    log: options.log ?? silentReconnectionLog,
  });
}

/** How a spec is named in logs and errors: driver and address, never credentials. */
export function describeSpec(spec: ConnectionSpec): string {
  if (spec.driver === 'pglite') return `pglite at ${spec.dataDir ?? 'memory'}`;
  return `${spec.driver} at ${addressOf(spec)}${spec.database ? `/${spec.database}` : ''}`;
}

/**
 * Parses a `--state-store` URL: `postgres://user:pass@host:5432/db?schema=s`, `mysql://user@host:3306/db`,
 * `pglite:memory`, `pglite:///abs/dir` or `pglite:relative/dir`.
 */
export function parseDatabaseUrl(text: string): ConnectionSpec {
  if (text === 'pglite:memory' || text === 'pglite:') return { driver: 'pglite' };
  if (text.startsWith('pglite:')) {
    const rest = text.slice('pglite:'.length);
    return { driver: 'pglite', dataDir: rest.startsWith('//') ? rest.slice(2) : rest };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(`invalid database URL "${redactUrl(text)}": expected postgres://, mysql:// or pglite:`);
  }
  const driver = { 'postgres:': 'postgresql', 'postgresql:': 'postgresql', 'mysql:': 'mysql' }[url.protocol] as Driver | undefined;
  if (!driver) {
    throw new InvalidArgumentError(`unsupported database URL scheme "${url.protocol}": use postgres://, mysql:// or pglite:`);
  }
  const schema = url.searchParams.get('schema') || undefined;
  if (schema !== undefined && !isSqlIdentifier(schema)) {
    throw new InvalidArgumentError(`invalid database URL "${redactUrl(text)}": schema ${JSON.stringify(schema.slice(0, 100))} ${SQL_IDENTIFIER_HINT}`);
  }
  const options = Object.fromEntries([...url.searchParams].filter(([name]) => name !== 'schema' && name !== 'sslmode'));
  const sslMode = url.searchParams.get('sslmode') ?? undefined;
  return {
    driver,
    host: url.hostname || 'localhost',
    ...(url.port ? { port: Number(url.port) } : {}),
    ...(url.pathname.length > 1 ? { database: decodeURIComponent(url.pathname.slice(1)) } : {}),
    ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(schema === undefined ? {} : { schema }),
    ...(sslMode ? { ssl: sslMode !== 'disable', sslMode: sslMode as ConnectionSpec['sslMode'] } : {}),
    ...(driver === 'mysql' && Object.keys(options).length > 0 ? { options } : {}),
  };
}
