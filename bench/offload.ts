// Offload (SPEC §11): dehydrate and hydrate times of a 10,000-node workflow (target ≤ 300 ms each), through
// compression into status.compressedNodes and through SQL offload on PGlite, PostgreSQL and MariaDB, with
// the compression ratio and, as the same-run baseline, plain JSON serialisation of the same workflow.
import { Hydrator } from '../runtime/controller/offload/hydrator.js';
import { SqlOffloadRepository } from '../runtime/controller/offload/offload-repository.js';
import type { Workflow } from '../runtime/controller/workflows/workflow.js';
import { migratePersistenceSchema } from '../runtime/store/migrations/persistence-migrations.js';
import { createTestDatabase, DIALECTS } from '../test/support/databases.js';
import { workflowWithNodes } from '../test/support/large-workflow.js';
import { ms, percentile } from './bench-support.js';

const NODES = 10_000;
const ROUNDS = 7;
const TARGET_MS = 300;

async function median(round: (index: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < ROUNDS; index += 1) {
    const start = performance.now();
    await round(index);
    times.push(performance.now() - start);
  }
  return percentile(times, 50);
}

/** Each round writes new nodes (a different output), as a running workflow does. */
const workflowOfRound = (index: number): Workflow => {
  const workflow = workflowWithNodes(NODES);
  const nodes = { ...workflow.status!.nodes!, 'big-0': { ...workflow.status!.nodes!['big-0']!, outputs: { result: `round ${index}` } } };
  return { ...workflow, status: { ...workflow.status!, nodes } };
};

function report(label: string, dehydrate: number, hydrate: number): void {
  const verdict = (value: number) => (value <= TARGET_MS ? 'met' : 'MISSED');
  console.log(`${label.padEnd(28)} dehydrate ${ms(dehydrate)} (${verdict(dehydrate)})   hydrate ${ms(hydrate)} (${verdict(hydrate)})   target ≤ ${TARGET_MS} ms each`);
}

const sample = workflowOfRound(0);
const json = JSON.stringify(sample);
const baseline = await median(async () => JSON.parse(JSON.stringify(sample)));
console.log(`${NODES} nodes, workflow JSON ${(Buffer.byteLength(json) / 1e6).toFixed(2)} MB; baseline JSON stringify+parse ${ms(baseline)}`);

const compressing = new Hydrator({ maxWorkflowSize: 1_048_576, alwaysOffload: false, compression: 'gzip' });
const compressed = await compressing.dehydrate(sample);
const compressedBytes = Buffer.byteLength(compressed.status!.compressedNodes!);
const nodesBytes = Buffer.byteLength(JSON.stringify(sample.status!.nodes));
console.log(`compression ratio (nodes JSON / base64 gzip): ${(nodesBytes / compressedBytes).toFixed(1)}× (${nodesBytes} → ${compressedBytes} bytes)`);
const dehydrateCompressed = await median((index) => compressing.dehydrate(workflowOfRound(index)));
const hydrateCompressed = await median(() => compressing.hydrate(compressed));
report('compressedNodes (gzip)', dehydrateCompressed, hydrateCompressed);
console.log(`  vs baseline: dehydrate ${(dehydrateCompressed / baseline).toFixed(1)}×, hydrate ${(hydrateCompressed / baseline).toFixed(1)}×`);

for (const driver of DIALECTS) {
  const database = await createTestDatabase(driver);
  const handle = await database.open();
  await migratePersistenceSchema(handle, { tableName: 'argo_workflows' });
  const offload = new SqlOffloadRepository(handle, { tableName: 'argo_workflows', clusterName: 'default' });
  const offloading = new Hydrator({ maxWorkflowSize: 1_048_576, alwaysOffload: true, compression: 'gzip', offload });
  const offloaded = await offloading.dehydrate(sample);
  const dehydrate = await median((index) => offloading.dehydrate(workflowOfRound(index + 1)));
  const hydrate = await median(() => offloading.hydrate(offloaded));
  report(`SQL offload on ${driver}`, dehydrate, hydrate);
  await database.drop();
}
