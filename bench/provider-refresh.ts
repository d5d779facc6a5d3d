// `pulumi refresh` of 500 SemaphoreLimits through the plugin at parallelism 16 (the engine's default for
// refresh steps), per resource, against the SPEC target of 3 ms; baseline: one bare GET of a limit on the
// same API in the same run.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../runtime/client/api-client.js';
import { EngineHarness, secret } from '../test/support/engine-harness.js';
import { benchLogFile, startArgosync } from './support/processes.js';

const RESOURCES = Number(process.env.BENCH_RESOURCES ?? 500);
const PARALLELISM = 16;
const TARGET_MS = 3;
const LIMIT = 'argosync:index:SemaphoreLimit';

const home = await mkdtemp(join(tmpdir(), 'argosync-bench-refresh-'));
// BENCH_STATE_STORE=postgres://... measures the runtime on PostgreSQL instead of its embedded PGlite.
const runtime = await startArgosync(home, benchLogFile('provider-refresh'), { args: ['--api-rate-limit', '1000000000'], stateStore: process.env.BENCH_STATE_STORE || undefined });
const engine = await EngineHarness.launch();
await engine.configure({ endpoint: runtime.url, token: secret(runtime.token), insecureSkipVerify: true, namespace: 'bench' });

const names = Array.from({ length: RESOURCES }, (_, index) => `limit-${index}`);
await inParallel(names, async (name, index) => {
  await engine.up(LIMIT, name, { key: name, limit: 1 + (index % 5) });
});

const started = performance.now();
await inParallel(names, (name) => engine.refresh(LIMIT, name));
const perResource = (performance.now() - started) / RESOURCES;

const client = new ApiClient({ server: runtime.url, token: runtime.token, insecureSkipVerify: true });
const baselineStart = performance.now();
await inParallel(names, (name) => client.send('GET', `/api/v1/sync/bench/${name}?type=DATABASE`));
const perGet = (performance.now() - baselineStart) / RESOURCES;
await client.close();

console.log(
  `refresh of ${RESOURCES} SemaphoreLimits at parallelism ${PARALLELISM}: ${perResource.toFixed(2)} ms per resource ` +
    `(target ≤ ${TARGET_MS} ms: ${perResource <= TARGET_MS ? 'met' : 'MISSED'}); a bare GET of a limit: ${perGet.toFixed(2)} ms ` +
    `→ refresh costs ${(perResource / perGet).toFixed(1)}× a GET (Read asks for the limit with its holders, then the engine diffs)`,
);
await engine.destroy();
await engine.close();
await runtime.stop();
await rm(home, { recursive: true, force: true });

async function inParallel<T>(items: readonly T[], work: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLELISM }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}
