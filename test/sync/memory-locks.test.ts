import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { migrateArgosyncSchema } from '../../runtime/store/migrations/argosync-migrations.js';
import { SqlConfigMapStore } from '../../runtime/store/sql-configmap-store.js';
import type { Synchronization } from '../../runtime/controller/sync/sync-items.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { startController, type TestController } from '../support/sync-controllers.js';

let testDatabase: TestDatabase;
let configMaps: SqlConfigMapStore;
let controller: TestController;
let namespace: string;
let counter = 0;

beforeAll(async () => {
  testDatabase = await createTestDatabase('pglite');
  const database = await testDatabase.open();
  await migrateArgosyncSchema(database);
  configMaps = new SqlConfigMapStore(database);
});
afterAll(async () => {
  await configMaps.close();
  await testDatabase.drop();
});

beforeEach(async () => {
  namespace = `ns-${(counter += 1)}`;
  controller?.stop();
  controller = await startController({ configMaps });
});

const semaphore = (key = 'gpu', name = 'limits'): Synchronization => ({ semaphores: [{ configMapKeyRef: { name, key }, namespace: undefined }] });
const wf = (name: string, extra: { priority?: number; created?: number; nodeId?: string } = {}) => ({ name, namespace, ...extra });
const lockName = (key = 'gpu', name = 'limits') => `${namespace}/ConfigMap/${name}/${key}`;

async function setLimit(limit: string, key = 'gpu', name = 'limits'): Promise<void> {
  const existing = await configMaps.get(namespace, name);
  if (existing) await configMaps.update({ ...existing, data: { ...existing.data, [key]: limit } });
  else await configMaps.create({ namespace, name, data: { [key]: limit } });
}

describe('ConfigMap semaphores', () => {
  it('admits up to the limit and says why the next one waits', async () => {
    await setLimit('2');
    expect(await controller.acquire(wf('a'), semaphore())).toMatchObject({ acquired: true, holds: [{ lockName: lockName(), token: 1 }] });
    expect((await controller.acquire(wf('b'), semaphore())).acquired).toBe(true);
    expect(await controller.acquire(wf('c'), semaphore())).toMatchObject({
      acquired: false,
      message: `Waiting for ${lockName()} lock. Lock status: 0/2`,
      failedLockName: lockName(),
    });
    // Asking again while holding changes nothing.
    expect(await controller.acquire(wf('a'), semaphore())).toMatchObject({ acquired: true, holds: [{ lockName: lockName() }] });
  });

  it('orders the queue by priority, then creation time, and hands off on release at once', async () => {
    await setLimit('1');
    await controller.acquire(wf('holder'), semaphore());
    await controller.acquire(wf('old-low', { created: 1000, priority: 0 }), semaphore());
    await controller.acquire(wf('new-high', { created: 3000, priority: 5 }), semaphore());
    await controller.acquire(wf('older-low', { created: 500, priority: 0 }), semaphore());
    const snapshot = await controller.manager.snapshot({ kind: 'ConfigMap', namespace, configMapName: 'limits', key: 'gpu' });
    expect(snapshot.waiters.map((waiter) => waiter.holderKey)).toEqual([`${namespace}/new-high`, `${namespace}/older-low`, `${namespace}/old-low`]);

    // Only the front may take the freed slot; the release wakes exactly it.
    const woken = controller.wakes.next(`${namespace}/new-high`);
    await controller.manager.releaseAll(namespace, 'holder');
    await woken;
    expect((await controller.acquire(wf('old-low', { created: 1000 }), semaphore())).acquired).toBe(false);
    expect((await controller.acquire(wf('new-high', { created: 3000, priority: 5 }), semaphore())).acquired).toBe(true);
  });

  it('lets other nodes of the front workflow acquire, but no one else', async () => {
    await setLimit('3');
    await controller.acquire(wf('blocker'), { mutexes: [{ name: 'm' }] });
    // wf-a's node 1 waits on both the semaphore and the taken mutex, so it stays at the semaphore's front.
    const both: Synchronization = { semaphores: [{ configMapKeyRef: { name: 'limits', key: 'gpu' } }], mutexes: [{ name: 'm' }] };
    expect((await controller.acquire(wf('wf-a', { nodeId: 'n1', created: 1 }), both)).acquired).toBe(false);
    expect((await controller.acquire(wf('wf-b', { nodeId: 'n1', created: 2 }), semaphore())).acquired).toBe(false);
    expect((await controller.acquire(wf('wf-a', { nodeId: 'n2', created: 1 }), semaphore())).acquired).toBe(true);
  });

  it('is all or nothing: nothing is held while one lock of the block is busy', async () => {
    await setLimit('5');
    await controller.acquire(wf('mutex-holder'), { mutexes: [{ name: 'm' }] });
    const both: Synchronization = { semaphores: [{ configMapKeyRef: { name: 'limits', key: 'gpu' } }], mutexes: [{ name: 'm' }] };
    const result = await controller.acquire(wf('both'), both);
    expect(result).toMatchObject({ acquired: false, failedLockName: `${namespace}/Mutex/m`, message: `Waiting for ${namespace}/Mutex/m lock. Lock status: 0/1` });
    const semaphoreSnapshot = await controller.manager.snapshot({ kind: 'ConfigMap', namespace, configMapName: 'limits', key: 'gpu' });
    expect(semaphoreSnapshot.holders).toEqual([]);
    expect(semaphoreSnapshot.waiters.map((waiter) => waiter.holderKey)).toEqual([`${namespace}/both`]);

    const woken = controller.wakes.next(`${namespace}/both`);
    await controller.manager.releaseAll(namespace, 'mutex-holder');
    await woken;
    expect((await controller.acquire(wf('both'), both)).acquired).toBe(true);
  });

  it('applies limit changes live: raising admits waiters at once, lowering drains holders first', async () => {
    await setLimit('1');
    await controller.acquire(wf('a'), semaphore());
    await controller.acquire(wf('b'), semaphore());
    await controller.acquire(wf('c'), semaphore());
    const bWoken = controller.wakes.next(`${namespace}/b`);
    const cWoken = controller.wakes.next(`${namespace}/c`);
    await setLimit('3');
    await Promise.all([bWoken, cWoken]);
    expect((await controller.acquire(wf('b'), semaphore())).acquired).toBe(true);
    expect((await controller.acquire(wf('c'), semaphore())).acquired).toBe(true);

    await setLimit('1');
    await controller.manager.releaseAll(namespace, 'a');
    // Two holders on a limit of 1: Argo prints the negative availability.
    expect(await controller.acquire(wf('d'), semaphore())).toMatchObject({ acquired: false, message: `Waiting for ${lockName()} lock. Lock status: -1/1` });
    await controller.manager.releaseAll(namespace, 'b');
    expect((await controller.acquire(wf('d'), semaphore())).acquired).toBe(false);
    await controller.manager.releaseAll(namespace, 'c');
    expect((await controller.acquire(wf('d'), semaphore())).acquired).toBe(true);
  });

  it('waits for a missing ConfigMap, key or positive limit, says how to create it, and admits once it exists', async () => {
    expect(await controller.acquire(wf('a'), semaphore())).toMatchObject({
      acquired: false,
      message: `Waiting for ${lockName()} lock: ConfigMap ${namespace}/limits does not exist (create it with: argosync sync create gpu --type configmap --cm-name limits --limit <N> -n ${namespace})`,
    });
    await setLimit('2', 'other');
    expect(await controller.acquire(wf('a'), semaphore())).toMatchObject({ message: expect.stringContaining(`key gpu not found in configmap ${namespace}/limits`) });
    await setLimit('0');
    expect(await controller.acquire(wf('a'), semaphore())).toMatchObject({ message: `Waiting for ${lockName()} lock: its limit is 0; raise it above zero to admit workflows` });
    await setLimit('two');
    expect(await controller.acquire(wf('a'), semaphore())).toMatchObject({
      message: `Waiting for ${lockName()} lock: invalid limit format for key gpu in configmap ${namespace}/limits: "two" is not an integer`,
    });
    const woken = controller.wakes.next(`${namespace}/a`);
    await setLimit('1');
    await woken;
    expect((await controller.acquire(wf('a'), semaphore())).acquired).toBe(true);
  });

  it("fails as Argo does with missingLimit: error", async () => {
    await controller.stop();
    controller = await startController({ configMaps, manager: { missingLimit: 'error' } });
    const error = await controller.acquire(wf('a'), semaphore()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(new RegExp(`^failed to initialize semaphore ${lockName()} with limit: ConfigMap ${namespace}/limits does not exist`));
  });

  it('rejects invalid blocks before queueing anything', async () => {
    await setLimit('1');
    await expect(controller.acquire(wf('a'), { semaphores: [{ configMapKeyRef: { name: 'limits', key: 'gpu' }, database: { key: 'gpu' } }] })).rejects.toThrow(
      'requested configuration is invalid: invalid semaphore with both ConfigMapKeyRef and Database',
    );
    await expect(controller.acquire(wf('a'), { mutexes: [{ name: 'm' }, { name: 'm' }] })).rejects.toThrow('requested configuration is invalid: duplicate synchronization item found');
    await expect(controller.acquire(wf('a'), { semaphores: [{ database: { key: 'x' } }] })).rejects.toThrow('synchronization database session is not available');
    expect((await controller.manager.snapshots()).flatMap((snapshot) => snapshot.waiters)).toEqual([]);
  });

  it('releases template-level holds per node, and everything of a workflow with releaseAll', async () => {
    await setLimit('2');
    await controller.acquire(wf('w', { nodeId: 'n1' }), semaphore());
    await controller.acquire(wf('w', { nodeId: 'n2' }), semaphore());
    await controller.acquire(wf('x'), semaphore());
    await controller.manager.release({ namespace, workflowName: 'w', nodeId: 'n1', synchronization: semaphore() });
    let snapshot = await controller.manager.snapshot({ kind: 'ConfigMap', namespace, configMapName: 'limits', key: 'gpu' });
    expect(snapshot.holders.map((holder) => holder.holderKey)).toEqual([`${namespace}/w/n2`]);
    await controller.acquire(wf('x'), semaphore());
    await controller.manager.releaseAll(namespace, 'w');
    await controller.manager.releaseAll(namespace, 'x');
    snapshot = await controller.manager.snapshot({ kind: 'ConfigMap', namespace, configMapName: 'limits', key: 'gpu' });
    expect([snapshot.holders, snapshot.waiters]).toEqual([[], []]);
  });

  it('sweeps holders and waiters of workflows that no longer exist', async () => {
    await setLimit('1');
    await controller.acquire(wf('gone'), semaphore());
    await controller.acquire(wf('gone-waiter'), semaphore());
    await controller.acquire(wf('alive'), semaphore());
    const woken = controller.wakes.next(`${namespace}/alive`);
    await controller.manager.sweep((workflowKey) => workflowKey === `${namespace}/alive`);
    await woken;
    expect((await controller.acquire(wf('alive'), semaphore())).acquired).toBe(true);
  });

  it('re-establishes recorded holds at startup, even above the limit, and fences each grant', async () => {
    await setLimit('1');
    const stale = await controller.manager.initialize([
      { namespace, workflowName: 'a', lockName: lockName(), type: 'semaphore', holderKey: `${namespace}/a` },
      { namespace, workflowName: 'b', lockName: lockName(), type: 'semaphore', holderKey: `${namespace}/b` },
    ]);
    expect(stale).toEqual([]);
    const snapshot = await controller.manager.snapshot({ kind: 'ConfigMap', namespace, configMapName: 'limits', key: 'gpu' });
    expect(snapshot.holders.map((holder) => [holder.holderKey, holder.token])).toEqual([
      [`${namespace}/a`, 1],
      [`${namespace}/b`, 2],
    ]);
    await controller.manager.releaseAll(namespace, 'a');
    expect((await controller.acquire(wf('c'), semaphore())).acquired).toBe(false);
    await controller.manager.releaseAll(namespace, 'b');
    expect(await controller.acquire(wf('c'), semaphore())).toMatchObject({ acquired: true, holds: [{ token: 3 }] });
    await expect(controller.manager.initialize([{ namespace, workflowName: 'z', lockName: 'bad', type: 'mutex', holderKey: `${namespace}/z` }])).rejects.toThrow(
      `cannot re-establish mutex "bad" held by workflow ${namespace}/z at startup: Invalid lock key: unknown format`,
    );
  });

  it('serializes a mutex', async () => {
    const mutex: Synchronization = { mutexes: [{ name: 'deploy' }] };
    expect((await controller.acquire(wf('a'), mutex)).acquired).toBe(true);
    expect(await controller.acquire(wf('b'), mutex)).toMatchObject({ acquired: false, message: `Waiting for ${namespace}/Mutex/deploy lock. Lock status: 0/1` });
  });
});
