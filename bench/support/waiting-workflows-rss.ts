// Child process of bench/queue.ts: a fresh runtime whose controller finds N workflows waiting on one
// ConfigMap semaphore (limit 1) at start, queues them all, and reports its RSS as JSON on stdout. The state
// store is the local PostgreSQL, so that the RSS is the controller's and not an embedded database's.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRuntime } from '../../runtime/runtime-process.js';
import { migrateArgosyncSchema } from '../../runtime/store/migrations/argosync-migrations.js';
import { SqlConfigMapStore } from '../../runtime/store/sql-configmap-store.js';
import { createTestDatabase } from '../../test/support/databases.js';
import { SqlWorkflowStore } from '../../runtime/store/sql-workflow-store.js';

const count = Number(process.argv[2] ?? 10_000);
const home = await mkdtemp(join(tmpdir(), 'argosync-bench-queue-'));
const database = await createTestDatabase('postgresql');
const state = await database.open();
const { host, port, user, database: name, schema } = database.spec;
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
  if (index % 2000 === 1999) process.stderr.write(`created ${index + 1} workflows\n`);
}
await store.close();
await configMaps.close();
await state.destroy();
const started = performance.now();
const runtime = await startRuntime({ home, stateStore: `postgres://${user}@${host}:${port}/${name}?schema=${schema}` }, { port: 0, logFormat: 'json' }, () => undefined);
const startupMs = performance.now() - started;
globalThis.gc?.();
const memory = process.memoryUsage();
const megabytes = (bytes: number) => bytes / 1024 / 1024;
process.stdout.write(`${JSON.stringify({ rssMb: megabytes(memory.rss), heapMb: megabytes(memory.heapUsed), externalMb: megabytes(memory.external + memory.arrayBuffers), startupMs })}\n`);
await runtime.stop();
await rm(home, { recursive: true, force: true });
await database.drop();
