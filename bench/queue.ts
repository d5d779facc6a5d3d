// Queue scaling (SPEC §11): the cost of one admission decision with 100 and with 10,000 waiters queued on one
// ConfigMap semaphore (limit 1), as a ratio (target ≤ 2×), and the RSS of 10,000 waiting workflows in the
// workflow controller (target ≤ 300 MB).
import { SqlConfigMapStore } from '../runtime/store/sql-configmap-store.js';
import { migrateArgosyncSchema } from '../runtime/store/migrations/argosync-migrations.js';
import { createTestDatabase } from '../test/support/databases.js';
import { startController } from '../test/support/sync-controllers.js';
import { CONFIGMAP_SEMAPHORE, ms, percentile } from './bench-support.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ADMISSIONS = 300;

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
// A fresh process, so that the RSS is the runtime's alone.
const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(new URL('support/waiting-workflows-rss.ts', import.meta.url)), '10000'], {
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
});
if (child.status !== 0) throw new Error(`the RSS measurement failed with ${child.status}`);
const { rssMb, heapMb, externalMb, startupMs } = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<string, number>;
console.log(
  `10,000 waiting workflows queued by a restarted controller: RSS ${rssMb!.toFixed(0)} MB (target ≤ 300 MB: ${rssMb! <= 300 ? 'met' : 'MISSED'}; ` +
    `JS heap ${heapMb!.toFixed(0)} MB, buffers and WebAssembly ${externalMb!.toFixed(0)} MB), ` +
    `start-up re-queueing them took ${(startupMs! / 1000).toFixed(1)} s`,
);
