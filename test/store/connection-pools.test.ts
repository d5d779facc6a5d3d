import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type SqlDatabase } from '../../runtime/store/sql-database.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.js';

/** How a session ends itself, as an operator's kill or a server restart would. */
const TERMINATE_OWN_SESSION = { postgresql: 'select pg_terminate_backend(pg_backend_pid())', mysql: 'kill connection connection_id()' };

// The pools behind every network store, with one connection so that each query lands on the same session.
describeEachDatabase(['postgresql', 'mysql'] as const)('the %s connection pool', (driver) => {
  let database: TestDatabase;
  let handle: SqlDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(driver);
    handle = await openDatabase({ ...database.spec, maxOpenConns: 1 });
  });
  afterAll(async () => {
    await handle.destroy();
    await database.drop();
  });

  it.runIf(driver === 'postgresql')('runs a kept statement as a named prepared statement, and others unnamed', async () => {
    const kept = sql<{ n: number }>`select ${1}::int + 1 as n`.compile(handle.db);
    handle.engine.keepPrepared(kept.sql);
    expect((await handle.db.executeQuery(kept)).rows).toEqual([{ n: 2 }]);
    await sql`select ${2}::int as unnamed`.execute(handle.db);
    const { rows } = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements order by name`.execute(handle.db);
    expect(rows).toEqual([{ name: 'argosync_prepared_1', statement: kept.sql }]);
  });

  it('drops a connection the server terminated instead of handing it to the next query', async () => {
    await expect(sql.raw(TERMINATE_OWN_SESSION[driver]).execute(handle.db)).rejects.toThrow(/unavailable/);
    expect((await sql<{ one: number }>`select 1 as one`.execute(handle.db)).rows).toEqual([{ one: 1 }]);
  });
});
