import fc from 'fast-check';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UnavailableError } from '../../runtime/errors.js';
import { LockMetrics } from '../../runtime/controller/sync/lock-metrics.js';
import { announceLimitChange } from '../../runtime/controller/sync/database-sync.js';
import { acquireFunctionName } from '../../runtime/store/sync/acquire-function.js';
import { handOffFunctionName } from '../../runtime/store/sync/hand-off-function.js';
import { migrateArgosyncSchema } from '../../runtime/store/migrations/argosync-migrations.js';
import { syncSchemaSteps } from '../../runtime/store/migrations/sync-migrations.js';
import { SqlConfigMapStore } from '../../runtime/store/sql-configmap-store.js';
import type { SqlDatabase } from '../../runtime/store/sql-database.js';
import type { Synchronization } from '../../runtime/controller/sync/sync-items.js';
import { createTestDatabase, describeEachDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { createSyncTestDatabase, startController, type ControllerOptions, type TestController } from '../support/sync-controllers.js';

const gpu: Synchronization = { semaphores: [{ database: { key: 'gpu' } }] };
const LOCK = 'ns/Database/gpu';
/** A creation time MySQL's `timestamp` can hold. */
const T = Date.UTC(2026, 0, 1);

describeEachDatabase(DIALECTS)('database locks on %s', (driver) => {
  let testDatabase: TestDatabase;
  let admin: SqlDatabase;
  let configMaps: SqlConfigMapStore;
  let drop: () => Promise<void>;
  const controllers: TestController[] = [];

  beforeEach(async () => {
    ({ testDatabase, admin, configMaps, drop } = await createSyncTestDatabase(driver));
  });
  afterEach(async () => {
    for (const controller of controllers.splice(0)) await controller.stop();
    await drop();
  });

  async function controller(name: string, options: Partial<ControllerOptions> = {}): Promise<TestController> {
    const started = await startController({ name, configMaps, sqlDatabase: await testDatabase.open(), ...options });
    controllers.push(started);
    return started;
  }
  const run = (statement: string) => sql.raw(statement).execute(admin.db);
  const setLimit = async (limit: number) => {
    await run(`delete from sync_limit where name = 'ns/gpu'`);
    await run(`insert into sync_limit (name, sizelimit) values ('ns/gpu', ${limit})`);
  };
  const heldRows = async () => (await sql<{ workflowkey: string }>`select workflowkey from sync_state where held = true order by workflowkey`.execute(admin.db)).rows.map((row) => row.workflowkey);
  const grantRows = async () =>
    (await sql<{ workflowkey: string; token: number | string }>`select workflowkey, token from argosync_sync_grant`.execute(admin.db)).rows.map((row) => [row.workflowkey, Number(row.token)]);
  /** One controller on a limit-1 semaphore: `holder` holds it, `waiter` waits. */
  const holderAndWaiter = async () => {
    await setLimit(1);
    const a = await controller('controller-a');
    await a.acquire({ name: 'holder' }, gpu);
    expect((await a.acquire({ name: 'waiter' }, gpu)).acquired).toBe(false);
    return a;
  };

  it('admits up to the sync_limit row with Argo texts, waits for a missing row, and admits once it exists', async () => {
    const a = await controller('controller-a');
    expect(await a.acquire({ name: 'w1' }, gpu)).toMatchObject({
      acquired: false,
      message: `Waiting for ${LOCK} lock: Database sync limit not found in namespace "ns" (create it with: argosync sync create gpu --type database --limit <N> -n ns)`,
    });
    await setLimit(1);
    const woken = a.wakes.next('ns/w1');
    await a.database!.maintain();
    await woken;
    expect(await a.acquire({ name: 'w1' }, gpu)).toMatchObject({ acquired: true, holds: [{ lockName: LOCK, token: 1 }] });
    expect(await a.acquire({ name: 'w2' }, gpu)).toMatchObject({ acquired: false, message: `Waiting for ${LOCK} lock (sem/ns/gpu). Lock status: 1/1` });
    expect(await heldRows()).toEqual(['ns/w1']);
    const mutex: Synchronization = { mutexes: [{ name: 'deploy', database: true }] };
    expect((await a.acquire({ name: 'w3' }, mutex)).acquired).toBe(true);
    expect(await a.acquire({ name: 'w4' }, mutex)).toMatchObject({ acquired: false, message: 'Waiting for ns/Database/deploy lock (mtx/ns/deploy). Lock status: 1/1' });
  });

  it('takes a database semaphore and a database mutex all or nothing', async () => {
    await setLimit(5);
    const a = await controller('controller-a');
    const both: Synchronization = { semaphores: [{ database: { key: 'gpu' } }], mutexes: [{ name: 'deploy', database: true }] };
    expect((await a.acquire({ name: 'mutex-holder' }, { mutexes: [{ name: 'deploy', database: true }] })).acquired).toBe(true);
    expect(await a.acquire({ name: 'both' }, both)).toMatchObject({ acquired: false, failedLockName: 'ns/Database/deploy' });
    expect(await heldRows()).toEqual(['ns/mutex-holder']);
    const woken = a.wakes.next('ns/both');
    await a.manager.releaseAll('ns', 'mutex-holder');
    await woken;
    expect((await a.acquire({ name: 'both' }, both)).acquired).toBe(true);
    expect(await heldRows()).toEqual(['ns/both', 'ns/both']);
  });

  it('applies sync_limit changes live: raising admits at the next look, lowering lets holders drain', async () => {
    await setLimit(1);
    const a = await controller('controller-a');
    await a.acquire({ name: 'first' }, gpu);
    expect((await a.acquire({ name: 'second' }, gpu)).acquired).toBe(false);
    await run(`update sync_limit set sizelimit = 2 where name = 'ns/gpu'`);
    const woken = a.wakes.next('ns/second');
    await a.database!.maintain();
    await woken;
    expect((await a.acquire({ name: 'second' }, gpu)).acquired).toBe(true);
    await run(`update sync_limit set sizelimit = 1 where name = 'ns/gpu'`);
    await a.manager.releaseAll('ns', 'first');
    expect(await a.acquire({ name: 'third' }, gpu)).toMatchObject({ acquired: false, message: `Waiting for ${LOCK} lock (sem/ns/gpu). Lock status: 1/1` });
    await a.manager.releaseAll('ns', 'second');
    expect((await a.acquire({ name: 'third' }, gpu)).acquired).toBe(true);
  });

  it.runIf(driver !== 'mysql')('reads a semaphore limit inside the acquisition call, with no round trip of its own', async () => {
    await setLimit(2);
    const a = await controller('controller-a');
    await a.acquire({ name: 'first' }, gpu);
    const separateReads = vi.spyOn(a.database!.store.limits, 'read');
    await run(`update sync_limit set sizelimit = 1 where name = 'ns/gpu'`);
    expect(await a.acquire({ name: 'second' }, gpu)).toMatchObject({ acquired: false, message: `Waiting for ${LOCK} lock (sem/ns/gpu). Lock status: 1/1` });
    await run(`delete from sync_limit where name = 'ns/gpu'`);
    expect(await a.acquire({ name: 'third' }, gpu)).toMatchObject({ acquired: false, message: expect.stringContaining('Database sync limit not found in namespace "ns"') });
    await run(`insert into sync_limit (name, sizelimit) values ('ns/gpu', 0)`);
    expect(await a.acquire({ name: 'fourth' }, gpu)).toMatchObject({ acquired: false, message: expect.stringContaining('its limit is 0') });
    expect(separateReads).not.toHaveBeenCalled();
  });

  it('sweeps the rows of workflows that no longer exist, holders and waiters alike', async () => {
    await setLimit(1);
    const a = await controller('controller-a');
    await a.acquire({ name: 'gone' }, gpu);
    await a.acquire({ name: 'gone-waiter', created: T }, gpu);
    await a.acquire({ name: 'alive', created: T + 1 }, gpu);
    const woken = a.wakes.next('ns/alive');
    await a.manager.sweep((workflowKey) => workflowKey === 'ns/alive');
    await woken;
    expect((await a.acquire({ name: 'alive', created: T + 1 }, gpu)).acquired).toBe(true);
    const rows = await sql<{ workflowkey: string }>`select workflowkey from sync_state`.execute(admin.db);
    expect(rows.rows.map((row) => row.workflowkey)).toEqual(['ns/alive']);
  });

  it('answers a waiter on a full lock from memory until a change of the lock is heard', async () => {
    // MySQL's fast poll is itself such a change: it must not tick between the two attempts.
    await setLimit(1);
    const a = await controller('controller-a', { database: { fastPollMs: 60_000 } });
    await a.acquire({ name: 'holder' }, gpu);
    expect((await a.acquire({ name: 'waiter' }, gpu)).acquired).toBe(false);
    const store = a.database!.store;
    const decisions = [vi.spyOn(store, 'acquireServerSide'), vi.spyOn(store, 'acquisition')];
    expect(await a.acquire({ name: 'waiter' }, gpu)).toMatchObject({ acquired: false, message: `Waiting for ${LOCK} lock (sem/ns/gpu). Lock status: 1/1` });
    expect(decisions.map((spy) => spy.mock.calls.length)).toEqual([0, 0]);
    const woken = a.wakes.next('ns/waiter');
    await a.manager.releaseAll('ns', 'holder');
    await woken;
    expect((await a.acquire({ name: 'waiter' }, gpu)).acquired).toBe(true);
  });

  it('admits the front waiter at its wake even when a waiter behind it found the free slot first', async () => {
    await setLimit(1);
    const a = await controller('controller-a');
    await a.acquire({ name: 'holder' }, gpu);
    await a.acquire({ name: 'first', created: T }, gpu);
    await a.acquire({ name: 'second', created: T + 1000 }, gpu);
    const woken = a.wakes.next('ns/first');
    await a.manager.releaseAll('ns', 'holder');
    await woken;
    expect((await a.acquire({ name: 'second', created: T + 1000 }, gpu)).acquired).toBe(false);
    expect((await a.acquire({ name: 'first', created: T }, gpu)).acquired).toBe(true);
  });

  it('places a newcomer in the queue by priority and creation time before deciding: ahead of the waiters it takes a free slot, behind them it waits', async () => {
    await setLimit(2);
    const [a, b] = [await controller('controller-a'), await controller('controller-b')];
    await a.acquire({ name: 'holder-1' }, gpu);
    await a.acquire({ name: 'holder-2' }, gpu);
    expect((await b.acquire({ name: 'waiting', created: T + 1000 }, gpu)).acquired).toBe(false);
    await a.manager.releaseAll('ns', 'holder-1');
    // A slot is free and controller-b's waiter, not yet woken, is at the front of the queue.
    expect(await a.acquire({ name: 'later', created: T + 2000 }, gpu)).toMatchObject({ acquired: false, message: `Waiting for ${LOCK} lock (sem/ns/gpu). Lock status: 1/2` });
    expect(await a.acquire({ name: 'older', created: T }, gpu)).toMatchObject({ acquired: true, holds: [{ lockName: LOCK }] });
    await a.manager.releaseAll('ns', 'older');
    expect((await a.acquire({ name: 'urgent', created: T + 3000, priority: 5 }, gpu)).acquired).toBe(true);
    expect(await heldRows()).toEqual(['ns/holder-2', 'ns/urgent']);
    const { rows } = await sql<{ workflowkey: string; priority: number }>`select workflowkey, priority from sync_state where workflowkey = 'ns/urgent'`.execute(admin.db);
    expect(rows.map((row) => [row.workflowkey, Number(row.priority)])).toEqual([['ns/urgent', 5]]);
  });

  it('hands the freed slot to its own front waiter inside the release, with the rows of an acquisition, where the database decides server-side', async () => {
    const a = await holderAndWaiter();
    const woken = a.wakes.next('ns/waiter');
    await a.manager.releaseAll('ns', 'holder');
    const handsOff = driver !== 'mysql';
    // Right after the release's commit: the waiter holds (PostgreSQL, PGlite), no guard row is left behind.
    expect(await heldRows()).toEqual(handsOff ? ['ns/waiter'] : []);
    expect((await run('select name from sync_lock')).rows).toEqual([]);
    await woken;
    const store = a.database!.store;
    const decisions = [vi.spyOn(store, 'acquireServerSide'), vi.spyOn(store, 'acquisition')];
    expect(await a.acquire({ name: 'waiter' }, gpu)).toMatchObject({ acquired: true, holds: [{ lockName: LOCK, token: 2 }] });
    expect(decisions.map((spy) => spy.mock.calls.length)).toEqual(handsOff ? [0, 0] : [0, 1]);
    expect(await grantRows()).toEqual([['ns/waiter', 2]]);
  });

  it('hands no slot to a waiter whose block needs another lock too, nor past a waiter in front', async () => {
    await setLimit(1);
    const a = await controller('controller-a');
    const withMutex: Synchronization = { ...gpu, mutexes: [{ name: 'deploy' }] };
    await a.acquire({ name: 'holder' }, gpu);
    await a.acquire({ name: 'deployer' }, { mutexes: [{ name: 'deploy' }] });
    expect((await a.acquire({ name: 'both', created: T }, withMutex)).acquired).toBe(false);
    expect((await a.acquire({ name: 'alone', created: T + 1000 }, gpu)).acquired).toBe(false);
    await a.manager.releaseAll('ns', 'holder');
    // The front waiter needs the in-process mutex as well, and the waiter behind it may not pass it.
    expect(await heldRows()).toEqual([]);
    await a.manager.releaseAll('ns', 'deployer');
    expect((await a.acquire({ name: 'both', created: T }, withMutex)).acquired).toBe(true);
  });

  it("hands no slot while an Argo controller keeps the lock's guard row committed, and releases all the same", async () => {
    const a = await holderAndWaiter();
    await run(`insert into sync_lock (name, controller, time) values ('sem/ns/gpu', 'argo-controller', '2026-01-01 00:00:00')`);
    await a.manager.releaseAll('ns', 'holder');
    expect(await heldRows()).toEqual([]);
    expect((await run('select controller from sync_lock')).rows).toEqual([{ controller: 'argo-controller' }]);
    await run(`delete from sync_lock`);
    expect(await a.acquireWhenWoken({ name: 'waiter' }, gpu)).toMatchObject({ acquired: true, holds: [{ lockName: LOCK, token: 2 }] });
  });

  it('gives the waiter its token when the answer of the release that handed it the slot was lost with the connection', async () => {
    const a = await holderAndWaiter();
    const sync = a.database!;
    const release = sync.release.bind(sync);
    vi.spyOn(sync, 'release').mockImplementationOnce(async (...args) => {
      await release(...args);
      throw new UnavailableError('sync database is unavailable: connection lost');
    });
    await expect(a.manager.releaseAll('ns', 'holder')).rejects.toThrow(UnavailableError);
    // The workflow controller retries the release; the waiter looks again at the next heard change.
    await a.manager.releaseAll('ns', 'holder');
    await sync.maintain();
    expect(await a.acquire({ name: 'waiter' }, gpu)).toMatchObject({ acquired: true, holds: [{ lockName: LOCK, token: 2 }] });
    expect(await grantRows()).toEqual([['ns/waiter', 2]]);
    await a.manager.releaseAll('ns', 'waiter');
    expect(await heldRows()).toEqual([]);
  });

  it('lets no stale waiting verdict undo a hand-off: the waiter collects it once, and its release frees the slot', async () => {
    const a = await holderAndWaiter();
    // A heard change sends the waiter's next attempt to the database; the holder releases right after it decided.
    await a.database!.maintain();
    const store = a.database!.store;
    const method = driver === 'mysql' ? 'acquisition' : 'acquireServerSide';
    const original = store[method].bind(store) as (...args: unknown[]) => Promise<unknown>;
    const raced = vi.spyOn(store, method).mockImplementationOnce((async (...args: unknown[]) => {
      const decided = await original(...args);
      await a.manager.releaseAll('ns', 'holder');
      return decided;
    }) as never);
    expect(await a.acquire({ name: 'waiter' }, gpu)).toMatchObject({ acquired: false, message: `Waiting for ${LOCK} lock (sem/ns/gpu). Lock status: 1/1` });
    expect(raced).toHaveBeenCalledTimes(1);
    raced.mockRestore();
    expect(await a.acquire({ name: 'waiter' }, gpu)).toMatchObject({ acquired: true, holds: [{ lockName: LOCK, token: 2 }] });
    expect(await a.acquire({ name: 'waiter' }, gpu)).toMatchObject({ acquired: true, holds: [{ lockName: LOCK }] });
    expect(await heldRows()).toEqual(['ns/waiter']);
    await a.manager.releaseAll('ns', 'waiter');
    expect(await heldRows()).toEqual([]);
    expect(await a.acquire({ name: 'after' }, gpu)).toMatchObject({ acquired: true, holds: [{ lockName: LOCK, token: 3 }] });
  });

  it.runIf(driver !== 'mysql')('collects a hand-off committed while its own attempt was in the database, exactly once', async () => {
    const a = await holderAndWaiter();
    await a.database!.maintain();
    const store = a.database!.store;
    const decide = store.acquireServerSide.bind(store);
    let decided!: Promise<unknown>;
    let attempt!: Promise<unknown>;
    const sync = a.database!;
    const release = sync.release.bind(sync);
    // Between the release's commit and the lock recording the hand-off, the waiter's attempt finds itself holding.
    vi.spyOn(sync, 'release').mockImplementationOnce(async (...args) => {
      const released = await release(...args);
      decided = new Promise((resolve) => {
        vi.spyOn(store, 'acquireServerSide').mockImplementationOnce(async (request) => {
          const states = await decide(request);
          resolve(states);
          return states;
        });
      });
      attempt = a.acquire({ name: 'waiter' }, gpu);
      expect(await decided).toMatchObject([{ alreadyHeld: true }]);
      return released;
    });
    await a.manager.releaseAll('ns', 'holder');
    expect(await attempt).toMatchObject({ acquired: true, holds: [{ lockName: LOCK, token: 2 }] });
    expect(await grantRows()).toEqual([['ns/waiter', 2]]);
    await a.manager.releaseAll('ns', 'waiter');
    expect(await heldRows()).toEqual([]);
  });

  it('leaks no slot handed to a waiter whose workflow went away before collecting it, even during the hand-off', async () => {
    await setLimit(1);
    const a = await controller('controller-a');
    const stateRows = async () => (await sql<{ workflowkey: string }>`select workflowkey from sync_state order by workflowkey`.execute(admin.db)).rows.map((row) => row.workflowkey);
    for (const round of [1, 2]) {
      await a.acquire({ name: `holder-${round}` }, gpu);
      expect((await a.acquire({ name: `gone-${round}`, created: T }, gpu)).acquired).toBe(false);
      expect((await a.acquire({ name: `next-${round}`, created: T + 1000 }, gpu)).acquired).toBe(false);
      // Round 1: the waiter's workflow is deleted after the hand-off; round 2: while the release hands it the slot.
      if (round === 1) {
        await a.manager.releaseAll('ns', `holder-${round}`);
        await a.manager.releaseAll('ns', `gone-${round}`);
      } else {
        await Promise.all([a.manager.releaseAll('ns', `holder-${round}`), a.manager.releaseAll('ns', `gone-${round}`)]);
      }
      expect(await stateRows()).not.toContain(`ns/gone-${round}`);
      expect(await a.acquireWhenWoken({ name: `next-${round}`, created: T + 1000 }, gpu)).toMatchObject({ acquired: true });
      expect(await stateRows()).toEqual([`ns/next-${round}`]);
      await a.manager.releaseAll('ns', `next-${round}`);
      expect(await stateRows()).toEqual([]);
    }
  });

  it.runIf(driver !== 'mysql')('wakes a waiter whose acquisition call was out when a release elsewhere was heard, without waiting for the poll', async () => {
    await setLimit(1);
    const [a, b] = [await controller('controller-a', { database: { pollSeconds: 600 } }), await controller('controller-b')];
    await b.acquire({ name: 'holder' }, gpu);
    // The answer of the waiter's call arrives after the release it did not see has been heard here.
    const store = a.database!.store;
    const acquire = store.acquireServerSide.bind(store);
    let released!: Promise<void>;
    vi.spyOn(store, 'acquireServerSide').mockImplementationOnce(async (request) => {
      const states = await acquire(request);
      const heard = vi.waitFor(() => expect(a.database!.changes('sem/ns/gpu')).toBe(1), { timeout: 5000 });
      released = b.manager.releaseAll('ns', 'holder');
      await released;
      await heard;
      return states;
    });
    const woken = a.wakes.next('ns/waiter');
    expect((await a.acquire({ name: 'waiter' }, gpu)).acquired).toBe(false);
    await released;
    await woken;
    expect((await a.acquire({ name: 'waiter' }, gpu)).acquired).toBe(true);
  });

  it.runIf(driver !== 'mysql')('announces a freed slot only when another controller has a queue row on the lock', async () => {
    await setLimit(1);
    const [a, b] = [await controller('controller-a'), await controller('controller-b')];
    /**
     * How many notices about the lock `b` hears while `release` runs: counted once a marker about another lock,
     * sent after it, has been heard (notices arrive, and are handled, in commit order).
     */
    const heardDuring = async (release: () => Promise<void>) => {
      const [before, markers] = [b.database!.changes('sem/ns/gpu'), b.database!.changes('sem/ns/marker')];
      await release();
      await announceLimitChange(a.database!.store, 'sem/ns/marker');
      await vi.waitFor(() => expect(b.database!.changes('sem/ns/marker')).toBe(markers + 1), { timeout: 5000 });
      return b.database!.changes('sem/ns/gpu') - before;
    };
    await a.acquire({ name: 'alone' }, gpu);
    await a.acquire({ name: 'own-waiter' }, gpu);
    expect(await heardDuring(() => a.manager.releaseAll('ns', 'alone'))).toBe(0);
    expect((await a.acquire({ name: 'own-waiter' }, gpu)).acquired).toBe(true);
    expect((await b.acquire({ name: 'other-waiter' }, gpu)).acquired).toBe(false);
    const woken = b.wakes.next('ns/other-waiter');
    expect(await heardDuring(() => a.manager.releaseAll('ns', 'own-waiter'))).toBe(1);
    await woken;
    expect((await b.acquire({ name: 'other-waiter' }, gpu)).acquired).toBe(true);
  });

  describe.runIf(driver === 'postgresql')('a release and an acquisition deciding at the same moment', () => {
    const tables = { limit: 'sync_limit', controller: 'sync_controller', state: 'sync_state', lock: 'sync_lock' } as const;
    /** Runs `statement` in a transaction on a connection of its own and leaves it open until `commit` is called. */
    const openTransaction = async (statement: string) => {
      const connection = await testDatabase.open();
      let commit!: () => void;
      const committed = new Promise<void>((resolve) => (commit = resolve));
      let backend!: number;
      const ready = new Promise<void>((resolve, reject) => {
        connection.db
          .transaction()
          .execute(async (tx) => {
            backend = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!.pid;
            await sql.raw(statement).execute(tx);
            resolve();
            await committed;
          })
          .catch(reject);
      });
      await ready;
      const blocking = async () => Number((await sql<{ n: string }>`select count(*) as n from pg_stat_activity where ${backend} = any(pg_blocking_pids(pid))`.execute(admin.db)).rows[0]!.n);
      return { commit, blocking, close: () => connection.destroy() };
    };

    it('lets the acquisition that finds the lock full wait for the release of a hold it counted, and hold in the same call', async () => {
      await setLimit(1);
      const [a, b] = [await controller('controller-a'), await controller('controller-b')];
      await a.acquire({ name: 'holder' }, gpu);
      const release = await openTransaction(
        `select * from ${handOffFunctionName(tables)}('controller-a', 'ns/holder', 'sem/ns/gpu', null, 'ns/gpu', '{}', now()::timestamp, now()::timestamp, 'unheard', '{}')`,
      );
      const acquiring = b.acquire({ name: 'waiter' }, gpu);
      await vi.waitFor(async () => expect(await release.blocking()).toBe(1), { timeout: 5000 });
      release.commit();
      expect(await acquiring).toMatchObject({ acquired: true });
      expect(await heldRows()).toEqual(['ns/waiter']);
      await release.close();
    });

    it('makes a release of a hold that an undecided acquisition counted wait for its queue row, and announce the freed slot', async () => {
      await setLimit(1);
      const [a, b] = [await controller('controller-a'), await controller('controller-b', { database: { pollSeconds: 600 } })];
      await a.acquire({ name: 'holder' }, gpu);
      const acquisition = await openTransaction(
        `select * from ${acquireFunctionName(tables)}('controller-b', 'ns/waiter', 0, '2026-01-01', now()::timestamp, (now() - interval '1 hour')::timestamp, '{sem/ns/gpu}', '{null}', '{ns/gpu}', true)`,
      );
      const releasing = a.manager.releaseAll('ns', 'holder');
      await vi.waitFor(async () => expect(await acquisition.blocking()).toBe(1), { timeout: 5000 });
      acquisition.commit();
      await releasing;
      await vi.waitFor(() => expect(b.database!.changes('sem/ns/gpu')).toBe(1), { timeout: 5000 });
      await acquisition.close();
    });
  });

  it('keeps one queue across controllers: priority first, then creation time, with immediate hand-off', async () => {
    await setLimit(1);
    const [a, b] = [await controller('controller-a'), await controller('controller-b')];
    await a.acquire({ name: 'holder' }, gpu);
    await b.acquire({ name: 'b-old', created: T + 1000 }, gpu);
    await a.acquire({ name: 'a-new', created: T + 2000 }, gpu);
    await b.acquire({ name: 'b-urgent', created: T + 3000, priority: 5 }, gpu);
    const order: string[] = [];
    const finish = async (who: TestController, name: string, created: number, priority = 0) => {
      await who.acquireWhenWoken({ name, created, priority }, gpu);
      order.push(name);
      await who.manager.releaseAll('ns', name);
    };
    const done = Promise.all([finish(b, 'b-urgent', T + 3000, 5), finish(b, 'b-old', T + 1000), finish(a, 'a-new', T + 2000)]);
    await a.manager.releaseAll('ns', 'holder');
    await done;
    expect(order).toEqual(['b-urgent', 'b-old', 'a-new']);
    expect(await heldRows()).toEqual([]);
  });

  it.runIf(driver !== 'mysql')('survives whatever any database user sends on its notification channel, forged probes included, and still hands off across controllers', async () => {
    await setLimit(1);
    // No poll for an hour: the hand-off below can only come from the release's notification.
    const [a, b] = [await controller('controller-a', { database: { pollSeconds: 3600 } }), await controller('controller-b', { database: { pollSeconds: 3600 } })];
    const channel = admin.engine.notifications!.channelName('argosync_sync');
    const payload = fc.oneof(
      fc.string(),
      fc.json(),
      fc.record({ probe: fc.oneof(fc.string(), fc.uuid(), fc.anything()) }).map((notice) => JSON.stringify(notice)),
      fc.record({ lock: fc.oneof(fc.string(), fc.constant('sem/ns/gpu'), fc.anything()), from: fc.anything() }).map((notice) => JSON.stringify(notice) ?? ''),
    );
    const payloads = fc.sample(payload, 200).map((text) => text.replaceAll('\u0000', ''));
    for (const text of payloads) await sql`select pg_notify(${channel}, ${text})`.execute(admin.db);
    await a.acquire({ name: 'holder' }, gpu);
    expect((await b.acquire({ name: 'waiter' }, gpu)).acquired).toBe(false);
    const handedOver = b.acquireAtNextWake({ name: 'waiter' }, gpu);
    await a.manager.releaseAll('ns', 'holder');
    expect((await handedOver).acquired).toBe(true);
    expect(await heldRows()).toEqual(['ns/waiter']);
  });

  it("ignores a dead controller's queue entries, reclaims its holds, and the dead controller fences itself", async () => {
    await setLimit(2);
    const [a, dead] = [await controller('controller-a'), await controller('controller-dead')];
    expect((await dead.acquire({ name: 'dead-holder' }, gpu)).acquired).toBe(true);
    expect((await a.acquire({ name: 'a-holder' }, gpu)).acquired).toBe(true);
    await dead.acquire({ name: 'dead-waiter', created: Date.UTC(2026, 0, 1) }, gpu);
    expect((await a.acquire({ name: 'a-waiter', created: Date.UTC(2026, 0, 2) }, gpu)).acquired).toBe(false);

    // The dead controller's heartbeat falls behind inactiveControllerSeconds.
    await run(`update sync_controller set time = '2000-01-01 00:00:00' where controller = 'controller-dead'`);
    const woken = a.wakes.next('ns/a-waiter');
    await a.database!.maintain();
    await woken;
    expect(await heldRows()).toEqual(['ns/a-holder']);
    expect((await a.acquire({ name: 'a-waiter', created: Date.UTC(2026, 0, 2) }, gpu)).acquired).toBe(true);

    // When it comes back, its next heartbeat finds it was declared inactive and reports the lost hold.
    await dead.database!.heartbeat();
    expect(dead.lost).toEqual([{ workflowKey: 'ns/dead-holder', holderKey: 'ns/dead-holder', lockName: LOCK }]);
  });

  it('never grants more than the limit to three controllers competing, and fencing tokens strictly increase', async () => {
    await setLimit(2);
    const competitors = [await controller('controller-a'), await controller('controller-b'), await controller('controller-c')];
    const holding = new Set<string>();
    let maxHolding = 0;
    let maxRows = 0;
    const tokens: number[] = [];
    let running = true;
    const observer = (async () => {
      while (running) {
        maxRows = Math.max(maxRows, (await heldRows()).length);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const work = competitors.flatMap((who, index) =>
      Array.from({ length: 8 }, async (_, round) => {
        const name = `w-${index}-${round}`;
        const result = await who.acquireWhenWoken({ name }, gpu);
        holding.add(name);
        maxHolding = Math.max(maxHolding, holding.size);
        if (result.acquired) tokens.push(result.holds[0]!.token!);
        await new Promise((resolve) => setImmediate(resolve));
        holding.delete(name);
        await who.manager.releaseAll('ns', name);
      }),
    );
    await Promise.all(work);
    running = false;
    await observer;
    expect(maxHolding).toBeLessThanOrEqual(2);
    expect(maxRows).toBeLessThanOrEqual(2);
    expect(tokens).toHaveLength(24);
    expect([...tokens].sort((x, y) => x - y)).toEqual(Array.from({ length: 24 }, (_, index) => index + 1));
    expect(await heldRows()).toEqual([]);
  });

  it("counts only its own controller's rows in the held and pending gauges, as Argo's per-controller metrics", async () => {
    await setLimit(1);
    const [a, b] = [await controller('controller-a'), await controller('controller-b')];
    await a.acquire({ name: 'a-holder' }, gpu);
    await b.acquire({ name: 'b-waiter' }, gpu);
    await b.acquire({ name: 'b-waiter-2' }, gpu);
    const gauges = async (who: TestController) => {
      const registry = new Registry();
      new LockMetrics(registry, () => who.manager.snapshots(), who.name);
      const text = await registry.metrics();
      const value = (metric: string) => Number(new RegExp(`^${metric}\\{[^}]*lock_name="gpu"[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1]);
      return [value('argosync_locks_held'), value('argosync_locks_pending')];
    };
    expect(await gauges(a)).toEqual([1, 0]);
    expect(await gauges(b)).toEqual([0, 2]);
  });

  it('stays within the limit while an Argo-style controller competes through SQL with two argosync controllers', async () => {
    await setLimit(2);
    // Argo's releases send no notification: argosync's waiters hear of them at their poll.
    const polling = { database: { pollSeconds: 0.2 } };
    const competitors = [await controller('controller-a', polling), await controller('controller-b', polling)];
    const argo = await testDatabase.open();
    await sql`insert into sync_controller (controller, time) values ('argo', ${new Date()})`.execute(argo.db);
    let maxRows = 0;
    let running = true;
    const observer = (async () => {
      while (running) {
        maxRows = Math.max(maxRows, (await heldRows()).length);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const argoGrants = argoStyleWorkflows(argo, driver, 6);
    const work = competitors.flatMap((who, index) =>
      Array.from({ length: 6 }, async (_, round) => {
        const name = `w-${index}-${round}`;
        await who.acquireWhenWoken({ name }, gpu);
        await new Promise((resolve) => setImmediate(resolve));
        await who.manager.releaseAll('ns', name);
      }),
    );
    await Promise.all([...work, argoGrants]);
    running = false;
    await observer;
    expect(maxRows).toBeLessThanOrEqual(2);
    expect(await heldRows()).toEqual([]);
  });

  it('honours rows written by an Argo controller on tables created by replaying Argo DDL', async () => {
    const argoDatabase = await createTestDatabase(driver);
    try {
      const argo = await argoDatabase.open();
      await sql`create table sync_schema_history (schema_version int not null, primary key(schema_version))`.execute(argo.db);
      for (const statement of syncSchemaSteps()) await sql.raw(statement).execute(argo.db);
      await sql`insert into sync_schema_history values (10)`.execute(argo.db);
      const now = new Date();
      await sql`insert into sync_limit (name, sizelimit) values ('ns/gpu', 1)`.execute(argo.db);
      await sql`insert into sync_controller (controller, time) values ('argo-controller', ${now})`.execute(argo.db);
      await sql`insert into sync_state (name, workflowkey, controller, held, priority, time) values ('sem/ns/gpu', 'ns/argo-wf', 'argo-controller', ${true}, 0, ${now})`.execute(argo.db);
      await migrateArgosyncSchema(argo);
      const store = new SqlConfigMapStore(argo);
      const ours = await startController({ name: 'argosync', configMaps: store, sqlDatabase: await argoDatabase.open() });
      controllers.push(ours);
      expect((await sql<{ v: number }>`select schema_version as v from sync_schema_history`.execute(argo.db)).rows.map((row) => Number(row.v))).toEqual([10]);
      expect(await ours.acquire({ name: 'ours' }, gpu)).toMatchObject({ acquired: false, message: `Waiting for ${LOCK} lock (sem/ns/gpu). Lock status: 1/1` });
      const snapshot = await ours.manager.snapshot({ kind: 'Database', namespace: 'ns', name: 'gpu', mutex: false });
      expect(snapshot.holders.map((holder) => [holder.holderKey, holder.controller])).toEqual([['ns/argo-wf', 'argo-controller']]);
      // The Argo controller releases the way Argo does: it deletes its held row.
      await sql`delete from sync_state where workflowkey = 'ns/argo-wf'`.execute(argo.db);
      const woken = ours.wakes.next('ns/ours');
      await ours.database!.maintain();
      await woken;
      expect((await ours.acquire({ name: 'ours' }, gpu)).acquired).toBe(true);
      await store.close();
    } finally {
      await argoDatabase.drop();
    }
  });

  it('rolls back a grant whose transaction fails half-way, holding nothing, and recovers', async () => {
    await setLimit(2);
    const a = await controller('controller-a');
    await installGrantFailure(admin, driver);
    const both: Synchronization = { semaphores: [{ database: { key: 'gpu' } }], mutexes: [{ name: 'deploy', database: true }] };
    await expect(a.acquire({ name: 'w' }, both)).rejects.toThrow();
    expect(await heldRows()).toEqual([]);
    expect((await sql<{ n: number }>`select count(*) as n from sync_lock`.execute(admin.db)).rows.map((row) => Number(row.n))).toEqual([0]);
    await removeGrantFailure(admin, driver);
    expect((await a.acquire({ name: 'w' }, both)).acquired).toBe(true);
    expect(await heldRows()).toEqual(['ns/w', 'ns/w']);
  });

  it('re-establishes holds at restart and reports the ones that disappeared', async () => {
    await setLimit(2);
    const before = await controller('controller-a');
    await before.acquire({ name: 'kept' }, gpu);
    await before.acquire({ name: 'lost' }, gpu);
    await before.stop();
    await run(`delete from sync_state where workflowkey = 'ns/lost'`);
    const after = await controller('controller-a');
    const stale = await after.manager.initialize([
      { namespace: 'ns', workflowName: 'kept', lockName: LOCK, type: 'semaphore', holderKey: 'ns/kept' },
      { namespace: 'ns', workflowName: 'lost', lockName: LOCK, type: 'semaphore', holderKey: 'ns/lost' },
    ]);
    expect(stale).toEqual([
      { namespace: 'ns', workflowName: 'lost', reason: `could not re-establish semaphore "${LOCK}" at controller startup: hold on sem/ns/gpu for ns/lost is not present in the database` },
    ]);
  });
});

/**
 * Makes the grant of `ns/w` fail inside the acquisition transaction, after the first lock's row was flipped to
 * held. On PostgreSQL the trigger kills its own connection: a real connection drop mid-transaction.
 */
async function installGrantFailure(database: SqlDatabase, driver: string): Promise<void> {
  if (driver === 'mysql') {
    await sql.raw(`create trigger fail_grant before insert on argosync_sync_grant for each row begin if new.name = 'mtx/ns/deploy' then signal sqlstate '45000' set message_text = 'injected failure'; end if; end`).execute(database.db);
    return;
  }
  const action = driver === 'postgresql' ? 'perform pg_terminate_backend(pg_backend_pid());' : "raise exception 'injected failure';";
  await sql.raw(`create function fail_grant() returns trigger language plpgsql as $$ begin if new.name = 'mtx/ns/deploy' then ${action} end if; return new; end $$`).execute(database.db);
  await sql.raw(`create trigger fail_grant before insert on argosync_sync_grant for each row execute function fail_grant()`).execute(database.db);
}

async function removeGrantFailure(database: SqlDatabase, driver: string): Promise<void> {
  await sql.raw(driver === 'mysql' ? 'drop trigger fail_grant' : 'drop trigger fail_grant on argosync_sync_grant').execute(database.db);
}

/**
 * An Argo controller's acquisitions as its source does them (argo-reference §4.5, §5.3), through SQL: queue row
 * outside the transaction; a committed `sync_lock` guard row (a taken one means "failed to lock()", try later);
 * a SERIALIZABLE transaction that checks holders and the live queue's front and flips the row to held (retried on
 * serialization failures and deadlocks); the guard deleted; then a short hold, released by deleting the row.
 * It polls, as Argo does, since nobody tells it about releases.
 */
async function argoStyleWorkflows(argo: SqlDatabase, driver: string, count: number): Promise<void> {
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  // As Argo's own statements outside the guarded transaction: InnoDB may pick one as a deadlock victim, and Argo retries it.
  const write = async (statement: () => Promise<unknown>) => {
    for (;;) {
      try {
        return await statement();
      } catch (error) {
        if (!argo.engine.isRetryableTransactionError(error)) throw error;
        await pause(2);
      }
    }
  };
  for (let index = 0; index < count; index += 1) {
    const key = `ns/argo-${index}`;
    await write(() => sql`insert into sync_state (name, workflowkey, controller, held, priority, time) values ('sem/ns/gpu', ${key}, 'argo', ${false}, 0, ${new Date(T)})`.execute(argo.db));
    for (let granted = false; !granted; ) {
      try {
        await sql`insert into sync_lock (name, controller, time) values ('sem/ns/gpu', 'argo', ${new Date()})`.execute(argo.db);
      } catch {
        await pause(5);
        continue;
      }
      try {
        granted = await argo.db
          .transaction()
          .setIsolationLevel('serializable')
          .execute(async (tx) => {
            const holders = await sql<{ n: number | string }>`select count(*) as n from sync_state where name = 'sem/ns/gpu' and held = ${true}`.execute(tx);
            const front = await sql<{ workflowkey: string }>`select workflowkey from sync_state where name = 'sem/ns/gpu' and held = ${false}
              and controller in (select controller from sync_controller where time > ${new Date(Date.now() - 600_000)}) order by priority desc, time asc limit 1`.execute(tx);
            if (Number(holders.rows[0]!.n) >= 2 || front.rows[0]?.workflowkey !== key) return false;
            await sql`update sync_state set held = ${true} where name = 'sem/ns/gpu' and workflowkey = ${key} and controller = 'argo'`.execute(tx);
            return true;
          });
      } catch (error) {
        if (!argo.engine.isRetryableTransactionError(error)) throw new Error(`${driver}: ${(error as Error).message}`);
      } finally {
        await write(() => sql`delete from sync_lock where name = 'sem/ns/gpu' and controller = 'argo'`.execute(argo.db));
      }
      if (!granted) await pause(5);
    }
    await pause(2);
    await write(() => sql`delete from sync_state where name = 'sem/ns/gpu' and workflowkey = ${key} and controller = 'argo'`.execute(argo.db));
  }
}
