import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { Synchronization } from '../../runtime/controller/sync/sync-items.js';
import { DEFAULT_SYNC_TABLES } from '../../runtime/store/migrations/sync-migrations.js';
import { openDatabase, type SqlDatabase } from '../../runtime/store/sql-database.js';
import { SyncStore } from '../../runtime/store/sync/sync-store.js';
import { describeEachDatabase, describeOn, DIALECTS, testServer } from '../support/databases.js';
import { createSyncTestDatabase, startController, type SyncTestDatabase, type TestController } from '../support/sync-controllers.js';

const gpu: Synchronization = { semaphores: [{ database: { key: 'gpu' } }] };
const CHURNED = ['argosync_sync_fence', 'argosync_sync_grant', 'sync_lock', 'sync_state'];
/** Each cycle is two writes: the acquisition and the release. */
const VACUUM_EVERY = { afterWrites: 10, minIntervalMs: 0 };

describeEachDatabase(DIALECTS)('vacuum of the sync tables on %s', (driver) => {
  let database: SyncTestDatabase;
  const controllers: TestController[] = [];
  const errors: [string, unknown][] = [];

  beforeEach(async () => {
    database = await createSyncTestDatabase(driver);
    await sql`insert into sync_limit (name, sizelimit) values ('ns/gpu', 1)`.execute(database.admin.db);
  });
  afterEach(async () => {
    for (const controller of controllers.splice(0)) await controller.stop();
    errors.splice(0);
    await database.drop();
  });

  /** A controller whose vacuums are recorded as they start. */
  async function controller(sqlDatabase?: SqlDatabase) {
    const started = await startController({
      configMaps: database.configMaps,
      sqlDatabase: sqlDatabase ?? (await database.testDatabase.open()),
      database: { vacuum: VACUUM_EVERY, onError: (task, error) => errors.push([task, error]) },
    });
    controllers.push(started);
    const { vacuum } = started.database!.store;
    const run = vacuum.run.bind(vacuum);
    const vacuums: Promise<string[]>[] = [];
    vi.spyOn(vacuum, 'run').mockImplementation(() => {
      const running = run();
      vacuums.push(running);
      return running;
    });
    return { controller: started, vacuums };
  }
  const cycles = async (controller: TestController, count: number) => {
    for (let i = 0; i < count; i++) {
      expect((await controller.acquire({ name: `w${i}` }, gpu)).acquired).toBe(true);
      await controller.manager.releaseAll('ns', `w${i}`);
    }
  };
  const vacuumCounts = async () => {
    const { rows } = await sql<{ relname: string; vacuum_count: string | number }>`
      select relname, vacuum_count from pg_stat_user_tables where schemaname = current_schema() and relname in (${sql.join(CHURNED)}) order by relname`.execute(database.admin.db);
    return Object.fromEntries(rows.map((row) => [row.relname, Number(row.vacuum_count)]));
  };
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  it.skipIf(driver === 'mysql')('vacuums the churned tables in the background after enough writes, and the cycle still works', async () => {
    const { controller: a, vacuums } = await controller();
    expect(await vacuumCounts()).toEqual(Object.fromEntries(CHURNED.map((table) => [table, 0])));
    await cycles(a, 4);
    await nextTurn();
    expect(vacuums).toHaveLength(0);
    // Within the serial loop (PGlite answers through microtasks: a vacuum waiting for a macrotask would starve).
    await cycles(a, 2);
    expect(vacuums).toHaveLength(1);
    expect(await vacuums[0]).toEqual(expect.arrayContaining([...CHURNED, 'sync_controller', 'sync_limit']));
    expect(await vacuumCounts()).toEqual(Object.fromEntries(CHURNED.map((table) => [table, 1])));
    expect(errors).toEqual([]);
  });

  it.skipIf(driver === 'mysql')('never vacuums on an idle controller', async () => {
    const { controller: a, vacuums } = await controller();
    for (let i = 0; i < 3; i++) {
      await a.database!.heartbeat();
      await a.database!.maintain();
    }
    await nextTurn();
    expect(vacuums).toHaveLength(0);
    expect(await vacuumCounts()).toEqual(Object.fromEntries(CHURNED.map((table) => [table, 0])));
  });

  it.skipIf(driver === 'mysql')('never runs inside an acquisition: on one session (PGlite) it waits for the transaction, which commits', async () => {
    const store = new SyncStore(await database.testDatabase.open(), DEFAULT_SYNC_TABLES);
    let vacuuming: Promise<string[]> | undefined;
    const result = await store.acquisition(['sem/ns/gpu'], 'controller-a', new Date(), () => undefined, async (tx) => {
      vacuuming = store.vacuum.run();
      await nextTurn();
      await store.lock('sem/ns/gpu').enqueue('controller-a', { holderKey: 'ns/w1', priority: 0, creationTime: Date.UTC(2026, 0, 1) }, tx);
      return 'committed';
    });
    expect(result).toBe('committed');
    expect(await vacuuming).toContain('sync_state');
    const { rows } = await sql<{ workflowkey: string }>`select workflowkey from sync_state`.execute(database.admin.db);
    expect(rows).toEqual([{ workflowkey: 'ns/w1' }]);
  });

  it.runIf(driver === 'mysql')('does nothing on MySQL (InnoDB purges by itself), and the cycle works', async () => {
    const { controller: a, vacuums } = await controller();
    expect(a.database!.store.vacuum.needed).toBe(false);
    await cycles(a, 6);
    await nextTurn();
    expect(vacuums).toHaveLength(0);
    expect(await a.database!.store.vacuum.run()).toEqual([]);
    expect(errors).toEqual([]);
  });
});

describeOn('postgresql')('vacuum by a database user that does not own the sync tables', () => {
  let database: SyncTestDatabase;
  let role: string;
  const onServer = async (statement: string) => {
    const server = await openDatabase(testServer('postgresql'));
    try {
      await sql.raw(statement).execute(server.db);
    } finally {
      await server.destroy();
    }
  };

  beforeEach(async () => {
    database = await createSyncTestDatabase('postgresql');
    role = `argosync_t_${randomBytes(6).toString('hex')}`;
    const schema = database.testDatabase.spec.schema!;
    // Only its schema: no CREATE on the database (opening a connection to an existing schema needs none).
    await onServer(
      `create role ${role} login; grant usage, create on schema ${schema} to ${role}; ` +
        `grant select, insert, update, delete on all tables in schema ${schema} to ${role}`,
    );
    await sql`insert into sync_limit (name, sizelimit) values ('ns/gpu', 1)`.execute(database.admin.db);
  });
  afterEach(async () => {
    await database.drop();
    await onServer(`drop owned by ${role}; drop role ${role}`);
  });

  it('skips the tables it may not vacuum, without a statement that would warn or an error, and vacuums those it owns', async () => {
    const errors: [string, unknown][] = [];
    const a = await startController({
      configMaps: database.configMaps,
      sqlDatabase: await openDatabase({ ...database.testDatabase.spec, user: role }),
      database: { vacuum: VACUUM_EVERY, onError: (task, error) => errors.push([task, error]) },
    });
    try {
      const { store } = a.database!;
      const run = vi.spyOn(store.vacuum, 'run');
      for (let i = 0; i < 6; i++) {
        expect((await a.acquire({ name: `w${i}` }, gpu)).acquired).toBe(true);
        await a.manager.releaseAll('ns', `w${i}`);
      }
      await vi.waitFor(() => expect(run).toHaveBeenCalled());
      // argosync's two tables were created by this user's controller; Argo's four by another user.
      const own = ['argosync_sync_fence', 'argosync_sync_grant'];
      expect(((await run.mock.results[0]!.value) as string[]).sort()).toEqual(own);
      await sql.raw(`alter table sync_state owner to ${role}`).execute(database.admin.db);
      expect((await store.vacuum.run()).sort()).toEqual([...own, 'sync_state']);
      expect(errors).toEqual([]);
    } finally {
      await a.stop();
    }
  });
});

describeOn('pglite')('vacuum by a database user with the MAINTAIN privilege (PostgreSQL 17 and later)', () => {
  it('vacuums exactly the tables it may maintain', async () => {
    const database = await createSyncTestDatabase('pglite');
    try {
      const store = new SyncStore(database.admin, DEFAULT_SYNC_TABLES);
      await store.migrate(false);
      // PGlite has one session: the role applies to every handle on it, for the rest of this test.
      for (const statement of ['create role maintainer', 'grant maintain on sync_state, sync_lock to maintainer', 'set role maintainer']) await sql.raw(statement).execute(database.admin.db);
      expect((await store.vacuum.run()).sort()).toEqual(['sync_lock', 'sync_state']);
    } finally {
      await database.drop();
    }
  });
});
