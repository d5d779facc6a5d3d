import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import type { ConnectionSpec, Driver } from '../../runtime/store/connection-spec.js';
import { PGLITE_OPTIONS, wrapPglite } from '../../runtime/store/engines/pglite.js';
import { openDatabase, parseDatabaseUrl, type SqlDatabase } from '../../runtime/store/sql-database.js';

/** Every SQL-touching suite runs on these three (SPEC §10). */
export const DIALECTS: readonly Driver[] = ['pglite', 'postgresql', 'mysql'];

const POSTGRES_URL = process.env.ARGOSYNC_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env.ARGOSYNC_TEST_MYSQL ?? 'mysql://root@127.0.0.1:3306/test';

/**
 * A database of its own for one test: a PostgreSQL schema, a MariaDB database or a fresh in-memory PGlite,
 * so suites can run in parallel. `open()` may be called several times to play several controllers.
 */
export interface TestDatabase {
  readonly driver: Driver;
  /** How a separate process would reach it (PGlite in memory cannot be shared across processes). */
  readonly spec: ConnectionSpec;
  open(): Promise<SqlDatabase>;
  /** Closes every handle `open()` gave and removes the schema or database. */
  drop(): Promise<void>;
}

export async function createTestDatabase(driver: Driver): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const handles: SqlDatabase[] = [];
  const track = async (opening: Promise<SqlDatabase>) => {
    const handle = await opening;
    handles.push(handle);
    return handle;
  };
  const closeHandles = () => Promise.all(handles.splice(0).map((handle) => handle.destroy()));

  if (driver === 'pglite') {
    const pglite = await PGlite.create(undefined, PGLITE_OPTIONS);
    const spec: ConnectionSpec = { driver: 'pglite' };
    return {
      driver,
      spec,
      open: () => track(wrapPglite(pglite, spec, 'pglite at memory', async () => undefined)),
      async drop() {
        await closeHandles();
        await pglite.close();
      },
    };
  }

  const server = parseDatabaseUrl(driver === 'postgresql' ? POSTGRES_URL : MYSQL_URL);
  const spec: ConnectionSpec = driver === 'postgresql' ? { ...server, schema: name } : { ...server, database: name };
  // PostgreSQL creates the schema on first open; MariaDB needs the database first.
  if (driver === 'mysql') await runOnServer(server, `create database ${name}`);
  return {
    driver,
    spec,
    open: () => track(openDatabase(spec)),
    async drop() {
      await closeHandles();
      await runOnServer(server, driver === 'postgresql' ? `drop schema if exists ${name} cascade` : `drop database if exists ${name}`);
    },
  };
}

/**
 * A whole database of its own on the PostgreSQL or MariaDB server (no schema): for a runtime whose
 * configuration section names a database, which cannot name a schema.
 */
export async function createWholeDatabase(driver: 'postgresql' | 'mysql'): Promise<Pick<TestDatabase, 'driver' | 'spec' | 'drop'>> {
  if (driver === 'mysql') return createTestDatabase(driver);
  const name = `t_${randomBytes(6).toString('hex')}`;
  const server = parseDatabaseUrl(POSTGRES_URL);
  await runOnServer(server, `create database ${name}`);
  return { driver, spec: { ...server, database: name }, drop: () => runOnServer(server, `drop database if exists ${name} with (force)`) };
}

async function runOnServer(server: ConnectionSpec, statement: string): Promise<void> {
  const database = await openDatabase(server);
  try {
    await sql.raw(statement).execute(database.db);
  } finally {
    await database.destroy();
  }
}
