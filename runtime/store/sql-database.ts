import { redactUrl } from '../redact.js';
import type { Kysely } from 'kysely';
import type { ConnectionSpec, Driver } from './connection-spec.js';
import type { EngineTraits } from './engines/engine-traits.js';
import { openMysql } from './engines/mysql.js';
import { openPglite } from './engines/pglite.js';
import { openPostgres } from './engines/postgres.js';
import { InvalidArgumentError } from '../errors.js';

/** An open database: kysely over one of the three engines, and what differs between them. */
export interface SqlDatabase {
  // Each store module declares the tables it touches; the handle itself is schema-agnostic.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly db: Kysely<any>;
  readonly engine: EngineTraits;
  /** e.g. `postgresql at 127.0.0.1:5432/test`; never contains a password. */
  readonly description: string;
  /** Closes every connection; safe to call twice. */
  destroy(): Promise<void>;
}

const OPENERS: Record<Driver, (spec: ConnectionSpec, description: string) => Promise<SqlDatabase>> = {
  postgresql: openPostgres,
  mysql: openMysql,
  pglite: openPglite,
};

/** The handle every engine returns: `destroy` runs `close` once, however often it is called. */
export function databaseHandle(parts: Omit<SqlDatabase, 'destroy'>, close: () => Promise<void>): SqlDatabase {
  let closing: Promise<void> | undefined;
  return { ...parts, destroy: () => (closing ??= close()) };
}

/** Opens a database; fails with `cannot connect to <driver> at <host:port>: <cause>` when it cannot. */
export function openDatabase(spec: ConnectionSpec): Promise<SqlDatabase> {
  return OPENERS[spec.driver](spec, describeSpec(spec));
}

/** How a spec is named in logs and errors: driver and address, never credentials. */
export function describeSpec(spec: ConnectionSpec): string {
  if (spec.driver === 'pglite') return `pglite at ${spec.dataDir ?? 'memory'}`;
  const address = `${spec.host ?? 'localhost'}${spec.port ? `:${spec.port}` : ''}`;
  return `${spec.driver} at ${address}${spec.database ? `/${spec.database}` : ''}`;
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
  const options = Object.fromEntries([...url.searchParams].filter(([name]) => name !== 'schema' && name !== 'sslmode'));
  const sslMode = url.searchParams.get('sslmode') ?? undefined;
  return {
    driver,
    host: url.hostname || 'localhost',
    ...(url.port ? { port: Number(url.port) } : {}),
    ...(url.pathname.length > 1 ? { database: decodeURIComponent(url.pathname.slice(1)) } : {}),
    ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.searchParams.get('schema') ? { schema: url.searchParams.get('schema')! } : {}),
    ...(sslMode ? { ssl: sslMode !== 'disable', sslMode: sslMode as ConnectionSpec['sslMode'] } : {}),
    ...(driver === 'mysql' && Object.keys(options).length > 0 ? { options } : {}),
  };
}
