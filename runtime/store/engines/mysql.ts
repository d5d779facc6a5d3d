import { Kysely, MysqlDialect, sql } from 'kysely';
import { createPool } from 'mysql2';
import { createConnection } from 'mysql2/promise';
import type { ConnectionSpec } from '../connection-spec.js';
import { reconnectingDialect } from '../reconnecting-dialect.js';
import { databaseHandle, type EngineOpening, type SqlDatabase } from '../sql-database.js';
import { connectError } from './connect-error.js';
import { droppingBrokenConnections } from './mysql-pool.js';
import { errorCode, messageLooksRetryable, type EngineTraits } from './engine-traits.js';

// ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT, and Galera/MariaDB's certification failure.
const RETRYABLE_ERRNOS = new Set([1213, 1205, 1020]);

/** MySQL/MariaDB through `mysql2`: deadlock errnos, GET_LOCK migrations, no LISTEN/NOTIFY (callers poll). */
export async function openMysql(spec: ConnectionSpec, opening: EngineOpening): Promise<SqlDatabase> {
  const config = {
    host: spec.host ?? 'localhost',
    port: spec.port ?? 3306,
    user: spec.user ?? 'root',
    password: spec.password,
    database: spec.database,
    connectTimeout: (spec.connectionTimeoutSeconds ?? 5) * 1000,
    // Argo's `timestamp` columns hold UTC.
    timezone: 'Z',
    supportBigNumbers: true,
    ...(spec.ssl ? { ssl: {} } : {}),
  };
  try {
    const probe = await createConnection(config);
    await probe.end();
  } catch (error) {
    throw connectError(spec, error);
  }
  const connectionLimit = spec.maxOpenConns ?? 10;
  // `maxIdleConns`: mysql2 closes idle connections beyond it within a second (and any idle for a minute).
  const pool = createPool({ ...config, connectionLimit, ...(spec.maxIdleConns === undefined ? {} : { maxIdle: Math.min(spec.maxIdleConns, connectionLimit) }) });
  const { description, reconnected } = opening;
  const db = new Kysely<unknown>({ dialect: reconnectingDialect(new MysqlDialect({ pool: droppingBrokenConnections(pool, spec.connMaxLifetimeMs) }), opening) });
  return databaseHandle({ db, description, engine: mysqlTraits }, reconnected, () => db.destroy());
}

const mysqlTraits: EngineTraits = {
  driver: 'mysql',
  isRetryableTransactionError: (error) =>
    RETRYABLE_ERRNOS.has(Number((error as { errno?: number }).errno)) ||
    ['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT'].includes(String(errorCode(error))) ||
    messageLooksRetryable(error),
  // InnoDB's flush policy is server-wide (innodb_flush_log_at_trx_commit): nothing to relax per transaction.
  isUniqueViolation: (error) => errorCode(error) === 'ER_DUP_ENTRY',
  async withMigrationLock(db, name, fn) {
    // GET_LOCK belongs to the session, and the server frees it if the process dies mid-migration.
    return db.connection().execute(async (connection) => {
      const result = await sql<{ acquired: number | null }>`select get_lock(${name}, 60) as acquired`.execute(connection);
      if (Number(result.rows[0]?.acquired) !== 1) throw new Error(`timed out waiting for the migration lock "${name}"`);
      try {
        return await fn();
      } finally {
        await sql`select release_lock(${name})`.execute(connection);
      }
    });
  },
  notifications: undefined,
  jsonColumnType: 'json',
  supportsIndexIfNotExists: false,
  upsert: 'onDuplicateKey',
  // mysql2 prepares only through execute(), which kysely does not use.
  keepPrepared: () => undefined,
};
