// Queue scaling (SPEC §11): the cost of one admission decision with 100 and with 10,000 waiters queued on one
// ConfigMap semaphore (limit 1), as a ratio (target ≤ 2×), and the RSS of 10,000 waiting workflows in the
// workflow controller (target ≤ 300 MB).
import { SqlConfigMapStore } from '../runtime/store/sql-configmap-store.js';
import { migrateArgosyncSchema } from '../runtime/store/migrations/argosync-migrations.js';
import { SqlWorkflowStore } from '../runtime/store/sql-workflow-store.js';
import { createTestDatabase, type TestDatabase } from '../test/support/databases.js';
import { startController } from '../test/support/sync-controllers.js';
import { stateStoreUrl } from '../test/support/state-store-url.js';
import { CONFIGMAP_SEMAPHORE, ms, percentile } from './bench-support.js';
import { benchLogFile } from './support/processes.js';
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ADMISSIONS = 300;
const log = benchLogFile('queue');

/** N workflows waiting on one ConfigMap semaphore of limit 1, written to a fresh state store. */
async function createWaitingWorkflows(database: TestDatabase, count: number): Promise<void> {
  const state = await database.open();
  await migrateArgosyncSchema(state);
  const configMaps = new SqlConfigMapStore(state);
  await configMaps.create({ namespace: 'bench', name: 'limits', data: { slot: '1' } });
  const store = new SqlWorkflowStore(state);
  for (let index = 0; index < count; index += 1) {
    await store.create({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      metadata: { name: `w-${index}`, namespace: 'bench' },
      spec: {
        entrypoint: 'main',
        synchronization: { semaphores: [{ configMapKeyRef: { name: 'limits', key: 'slot' } }] },
        templates: [{ name: 'main', container: { image: 'busybox', command: ['sleep', '600'] } }],
      },
    });
  }
  await store.close();
  await configMaps.close();
  await state.destroy();
}

async function admissionCost(waiters: number): Promise<number> {
  const database = await createTestDatabase('pglite');
  const admin = await database.open();
  await migrateArgosyncSchema(admin);
  const configMaps = new SqlConfigMapStore(admin);
  await configMaps.create({ namespace: 'ns', name: 'bench', data: { bench: '1' } });
  const controller = await startController({ configMaps });
  await controller.acquire({ name: 'holder' }, CONFIGMAP_SEMAPHORE);
  for (let index = 0; index < waiters + ADMISSIONS; index += 1) await controller.acquire({ name: `w-${index}` }, CONFIGMAP_SEMAPHORE);
  const times: number[] = [];
  let holder = 'holder';
  for (let index = 0; index < ADMISSIONS; index += 1) {
    const next = `w-${index}`;
    const start = performance.now();
    await controller.manager.releaseAll('ns', holder);
    const result = await controller.acquire({ name: next }, CONFIGMAP_SEMAPHORE);
    times.push(performance.now() - start);
    if (!result.acquired) throw new Error(`${next} should have been admitted`);
    holder = next;
  }
  await controller.stop();
  await configMaps.close();
  await database.drop();
  return percentile(times, 50);
}

await admissionCost(100); // warm-up
const small = await admissionCost(100);
const large = await admissionCost(10_000);
const ratio = large / small;
console.log(
  `admission (release + next waiter acquires), median: ${ms(small)} with 100 waiters, ${ms(large)} with 10,000 → ${ratio.toFixed(2)}× ` +
    `(target ≤ 2×: ${ratio <= 2 ? 'met' : 'MISSED'})`,
);
// The runtime's RSS in a fresh process: on an empty state store (baseline), then with 10,000 waiting workflows.
const rssOf = async (workflows: number) => {
  const database = await createTestDatabase('postgresql');
  await createWaitingWorkflows(database, workflows);
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(new URL('support/waiting-workflows-rss.ts', import.meta.url))], {
    env: { ...process.env, ARGOSYNC_STATE_STORE: stateStoreUrl(database.spec) },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  await database.drop();
  appendFileSync(log, child.stderr);
  if (child.status !== 0) throw new Error(`the RSS measurement failed with ${child.status}; see ${log}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<'rssMb' | 'heapMb' | 'externalMb' | 'startupMs', number>;
};
const idle = await rssOf(0);
const { rssMb, heapMb, externalMb, startupMs } = await rssOf(10_000);
console.log(
  `10,000 waiting workflows queued by a restarted controller: RSS ${rssMb.toFixed(0)} MB (target ≤ 300 MB: ${rssMb <= 300 ? 'met' : 'MISSED'}; ` +
    `JS heap ${heapMb.toFixed(0)} MB, buffers ${externalMb.toFixed(0)} MB; the idle runtime: RSS ${idle.rssMb.toFixed(0)} MB), ` +
    `start-up re-queueing them took ${(startupMs / 1000).toFixed(1)} s`,
);
