import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { announceLimitChange } from '../../runtime/controller/sync/database-sync.js';
import type { AcquireResult } from '../../runtime/controller/sync/sync-manager.js';
import type { Synchronization } from '../../runtime/controller/sync/sync-items.js';
import { UnavailableError } from '../../runtime/errors.js';
import type { ReconnectionLog } from '../../runtime/store/reconnection-policy.js';
import type { SqlConfigMapStore } from '../../runtime/store/sql-configmap-store.js';
import { openDatabase, type SqlDatabase } from '../../runtime/store/sql-database.js';
import { DEFAULT_SYNC_TABLES } from '../../runtime/store/migrations/sync-migrations.js';
import { SyncStore } from '../../runtime/store/sync/sync-store.js';
import { describeEachDatabase, type TestDatabase } from '../support/databases.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { createSyncTestDatabase, startController, type TestController, type WorkflowRef } from '../support/sync-controllers.js';

const gpu: Synchronization = { semaphores: [{ database: { key: 'gpu' } }] };
/** Small delays, so that a 1.5 s outage is ridden out in a fraction of a second after healing. */
const FAST = { maxRetries: 3, baseDelayMs: 50, maxDelayMs: 200, retryMultiple: 2 };
const OUTAGE_MS = 1500;

const within = <T>(ms: number, promise: Promise<T>, what: string): Promise<T> =>
  Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);

/** Retries what an outage makes fail (Unavailable), as the workflow controller does at its next reconcile. */
async function ridingOut<T>(operation: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describeEachDatabase(['postgresql', 'mysql'] as const)('a sync database outage on %s', (driver) => {
  let testDatabase: TestDatabase;
  let admin: SqlDatabase;
  let configMaps: SqlConfigMapStore;
  let drop: () => Promise<void>;
  let proxy: FaultProxy;
  const opened: SqlDatabase[] = [];
  const controllers: TestController[] = [];
  const logged: string[] = [];
  const log: ReconnectionLog = { warn: (line) => logged.push(`warn ${line}`), info: (line) => logged.push(`info ${line}`) };

  beforeEach(async () => {
    ({ testDatabase, admin, configMaps, drop } = await createSyncTestDatabase(driver));
    proxy = await startFaultProxy(testDatabase.spec);
    logged.length = 0;
  });
  afterEach(async () => {
    for (const controller of controllers.splice(0)) await controller.stop();
    for (const database of opened.splice(0)) await database.destroy();
    await proxy.close();
    await drop();
  });

  /** A controller reaching the database through the proxy, as a separate runtime would. */
  async function controller(name: string): Promise<TestController> {
    const database = await openDatabase({ ...testDatabase.spec, host: proxy.host, port: proxy.port }, { role: 'sync database', reconnection: FAST, log });
    opened.push(database);
    const started = await startController({ name, configMaps, sqlDatabase: database, database: { fastPollMs: 20 } });
    controllers.push(started);
    return started;
  }
  const run = (statement: string) => sql.raw(statement).execute(admin.db);
  const heldRows = async () => Number((await sql<{ n: number }>`select count(*) as n from sync_state where held = true`.execute(admin.db)).rows[0]!.n);

  /** `holder` on `from` releases while `waiter` waits on `to`: resolves with the ms until `to` wakes the waiter. */
  async function handOff(from: TestController, to: TestController, round: number): Promise<number> {
    const holder: WorkflowRef = { name: `holder-${round}` };
    const waiter: WorkflowRef = { name: `waiter-${round}` };
    expect((await from.acquire(holder, gpu)).acquired).toBe(true);
    expect((await to.acquire(waiter, gpu)).acquired).toBe(false);
    const woken = to.wakes.next(`ns/${waiter.name}`);
    const released = performance.now();
    await from.manager.releaseAll('ns', holder.name);
    await within(5000, woken, 'hand-off');
    const ms = performance.now() - released;
    expect((await to.acquire(waiter, gpu)).acquired).toBe(true);
    await to.manager.releaseAll('ns', waiter.name);
    return ms;
  }

  it('hands off across controllers quickly again soon after healing, and a limit created then wakes waiters at once', async () => {
    await run(`insert into sync_limit (name, sizelimit) values ('ns/gpu', 1)`);
    const [a, b] = [await controller('controller-a'), await controller('controller-b')];
    // The same hand-off before the outage tells how slow this (shared, 2-core) machine is right now.
    const before = await handOff(a, b, 0);
    const slowdown = Math.max(1, before / 50);

    await proxy.cut();
    await expect(a.acquire({ name: 'during' }, gpu)).rejects.toThrow(UnavailableError);
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await proxy.heal();
    const healed = performance.now();

    // Within 2 s of healing a hand-off takes under 100 ms again (PostgreSQL: NOTIFY on a re-established LISTEN;
    // MariaDB: the short poll on a recovered pool); both bounds stretch with the slowdown measured above. Without
    // the re-established LISTEN, a hand-off on PostgreSQL waits for pollSeconds (10 s).
    const [target, window] = [100 * slowdown, 2000 * slowdown];
    let fastest = Infinity;
    for (let round = 1; fastest >= target && performance.now() - healed < window; round += 1) {
      fastest = Math.min(fastest, await ridingOut(() => handOff(a, b, round)));
    }
    expect(fastest).toBeLessThan(target);

    // A limit created now (as the sync API does: row, then announcement) admits B's waiter without a poll round.
    const woken = b.wakes.next('ns/fresh');
    expect(await b.acquire({ name: 'fresh' }, { semaphores: [{ database: { key: 'fresh' } }] })).toMatchObject({ acquired: false });
    await run(`insert into sync_limit (name, sizelimit) values ('ns/fresh', 1)`);
    await announceLimitChange(new SyncStore(admin, DEFAULT_SYNC_TABLES), 'sem/ns/fresh');
    await within(2000, woken, 'wake after the limit was created');

    if (driver === 'postgresql') {
      expect(logged.some((line) => /^warn sync database postgresql at 127\.0\.0\.1:\d+: LISTEN connection lost/.test(line))).toBe(true);
      expect(logged.some((line) => /^info sync database postgresql at 127\.0\.0\.1:\d+: LISTEN re-established on argosync_sync/.test(line))).toBe(true);
    }
    expect(logged.some((line) => /^warn sync database \w+ at 127\.0\.0\.1:\d+ is unavailable: /.test(line))).toBe(true);
    expect(logged.some((line) => /^info sync database \w+ at 127\.0\.0\.1:\d+ is available again after \d+ ms/.test(line))).toBe(true);
  });

  it('loses and doubles no grant when the database goes away mid-run', async () => {
    await run(`insert into sync_limit (name, sizelimit) values ('ns/gpu', 2)`);
    const competitors = [await controller('controller-a'), await controller('controller-b')];
    let maxHeld = 0;
    let observing = true;
    const observer = (async () => {
      while (observing) {
        maxHeld = Math.max(maxHeld, await heldRows());
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const grants: number[] = [];
    const work = competitors.flatMap((who, index) =>
      Array.from({ length: 6 }, async (_, round) => {
        const workflow = { name: `w-${index}-${round}` };
        let result: AcquireResult;
        for (;;) {
          const woken = who.wakes.next(`ns/${workflow.name}`);
          result = await ridingOut(() => who.acquire(workflow, gpu));
          if (result.acquired) break;
          // A wake, or a look of our own now and then: a wake may be lost with the connection that carried it.
          await Promise.race([woken, new Promise((resolve) => setTimeout(resolve, 300))]);
        }
        grants.push(result.holds[0]!.token!);
        await new Promise((resolve) => setTimeout(resolve, 40));
        await ridingOut(() => who.manager.releaseAll('ns', workflow.name));
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await proxy.outage(1000);
    await within(20_000, Promise.all(work), 'every workflow finishing');
    observing = false;
    await observer;
    expect(maxHeld).toBeLessThanOrEqual(2);
    expect(grants).toHaveLength(12);
    // Each grant has a token of its own (they increase with every grant: none is reused or doubled).
    expect(new Set(grants).size).toBe(12);
    expect(await heldRows()).toBe(0);
  });
});
