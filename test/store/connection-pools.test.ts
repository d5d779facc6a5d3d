import { sql } from 'kysely';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type SqlDatabase } from '../../runtime/store/sql-database.js';
import { preparedStatementName } from '../../runtime/store/engines/postgres-pool.js';
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
    expect(rows).toEqual([{ name: preparedStatementName(kept.sql), statement: kept.sql }]);
  });

  it.runIf(driver === 'postgresql').each([
    // The server forgot the statement, as a new server session behind PgBouncer has never seen it.
    ['the server no longer has it', 'deallocate all'],
    // The session already holds another statement of that name, as a server session another client prepared.
    // The session already holds the statement, as a server session where another client of the proxy prepared it.
    ['the server already has it', 'prepare'],
  ])('runs a kept statement unnamed from then on when %s, and says so once', async (_case, interference) => {
    const warnings: string[] = [];
    const own = await openDatabase({ ...database.spec, maxOpenConns: 1 }, { log: { warn: (line) => warnings.push(line), info: () => undefined } });
    try {
      const kept = sql<{ n: number }>`select ${1}::int + 1 as n`.compile(own.db);
      own.engine.keepPrepared(kept.sql);
      if (interference === 'deallocate all') expect((await own.db.executeQuery(kept)).rows).toEqual([{ n: 2 }]);
      await sql.raw(interference === 'prepare' ? `prepare ${preparedStatementName(kept.sql)} (int) as ${kept.sql}` : interference).execute(own.db);
      expect((await own.db.executeQuery(kept)).rows).toEqual([{ n: 2 }]);
      expect((await own.db.executeQuery(kept)).rows).toEqual([{ n: 2 }]);
      const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements where name = ${preparedStatementName(kept.sql)} and statement = ${kept.sql}`.execute(own.db);
      expect(rows).toEqual([]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/did not keep a prepared statement .*PgBouncer.*: statements run unprepared from now on$/);
    } finally {
      await own.destroy();
    }
  });

  it('drops a connection the server terminated instead of handing it to the next query', async () => {
    await expect(sql.raw(TERMINATE_OWN_SESSION[driver]).execute(handle.db)).rejects.toThrow(/unavailable/);
    expect((await sql<{ one: number }>`select 1 as one`.execute(handle.db)).rows).toEqual([{ one: 1 }]);
  });
});

/** The server's id of the session a query runs on, after holding it for a moment (so concurrent ones each need a connection). */
const SESSION_ID = { postgresql: 'select pg_backend_pid() as id from pg_sleep(0.05)', mysql: 'select connection_id() as id, sleep(0.05) as slept' };
/** Long enough for the pool to close connections idle beyond `maxIdleConns`: `pg` at once, mysql2 on its one-second sweep. */
const IDLE_SWEEP_MS = { postgresql: 100, mysql: 1_500 };

// Argo's connectionPool keys, as Go's database/sql applies them.
describeEachDatabase(['postgresql', 'mysql'] as const)('the %s pool settings', (driver) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(driver);
  });
  afterAll(() => database.drop());

  async function withPool(settings: { maxIdleConns?: number; connMaxLifetimeMs?: number }, use: (sessions: (count: number) => Promise<Set<string>>) => Promise<void>): Promise<void> {
    const handle = await openDatabase({ ...database.spec, maxOpenConns: 3, ...settings });
    try {
      await use(async (count) => {
        const ids = await Promise.all(Array.from({ length: count }, () => sql.raw<{ id: number | string }>(SESSION_ID[driver]).execute(handle.db)));
        return new Set(ids.map(({ rows }) => String(rows[0]!.id)));
      });
    } finally {
      await handle.destroy();
    }
  }

  it('keeps maxIdleConns connections open while idle and closes the others', async () => {
    await withPool({ maxIdleConns: 1 }, async (sessions) => {
      const busy = await sessions(3);
      expect(busy.size).toBe(3);
      await new Promise((resolve) => setTimeout(resolve, IDLE_SWEEP_MS[driver]));
      const again = await sessions(3);
      expect([...again].filter((id) => busy.has(id))).toHaveLength(1);
    });
  });

  it('retires a connection once it is older than connMaxLifetime, and reuses it until then', async () => {
    await withPool({ connMaxLifetimeMs: 500 }, async (sessions) => {
      const [first] = await sessions(1);
      expect(await sessions(1)).toEqual(new Set([first]));
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect((await sessions(1)).has(first!)).toBe(false);
    });
  });
});

describe('preparedStatementName', () => {
  it('names a statement by its text alone, within PostgreSQL identifier length, so no other text carries its name', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (text, other) => {
        expect(preparedStatementName(text)).toMatch(/^argosync_[0-9a-f]{32}$/);
        expect(preparedStatementName(text) === preparedStatementName(other)).toBe(text === other);
      }),
    );
  });
});
