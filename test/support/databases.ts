import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { describe, inject } from 'vitest';
import type { ConnectionSpec, Driver } from '../../runtime/store/connection-spec.js';
import { createPglite, wrapPglite } from '../../runtime/store/engines/pglite.js';
import { openDatabase, parseDatabaseUrl, type SqlDatabase } from '../../runtime/store/sql-database.js';
import { configuredServers, type TestServers } from './test-servers.js';

/** Every SQL-touching suite runs on these three (SPEC §10). */
export const DIALECTS: readonly Driver[] = ['pglite', 'postgresql', 'mysql'];

// Under vitest the global set-up has found (or started) the servers; benches take the environment as it is.
const SERVERS: TestServers = process.env.VITEST ? inject('testServers') : configuredServers(process.env);

/** Why the suites on `driver` cannot run here (the global set-up printed it), or undefined when they can. */
export function missingDatabase(driver: Driver): string | undefined {
  if (driver === 'pglite') return undefined;
  const location = SERVERS[driver];
  return 'missing' in location ? location.missing : undefined;
}

/** `describe`, skipped when one of `drivers` has no server here. */
export function describeOn(...drivers: Driver[]) {
  return describe.skipIf(drivers.some((driver) => missingDatabase(driver) !== undefined));
}

/**
 * `describe.each(drivers)` (`%s` in the title is the driver), skipping the drivers that have no server here
 * (and every driver when one of `alsoNeeded` has none).
 */
export function describeEachDatabase<D extends Driver>(drivers: readonly D[], ...alsoNeeded: Driver[]) {
  return (title: string, body: (driver: D) => void): void => {
    for (const driver of drivers) describeOn(driver, ...alsoNeeded)(title.replace('%s', driver), () => body(driver));
  };
}

/** The server a test database of `driver` lives on. */
export function testServer(driver: 'postgresql' | 'mysql'): ConnectionSpec {
  const location = SERVERS[driver];
  if ('missing' in location) throw new Error(`no ${driver} server for this test: ${location.missing}`);
  return parseDatabaseUrl(location.url);
}

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
    const pglite = await createPglite(undefined);
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

  const server = testServer(driver);
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
  const server = testServer('postgresql');
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
