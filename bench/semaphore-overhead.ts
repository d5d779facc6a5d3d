// End to end: what a database semaphore costs whole workflows. Trivial workflows (one zero-length suspend) run
// on one and on two runtimes sharing a PostgreSQL sync database, in alternating rounds: without a semaphore
// (the baseline of the same run), with a database semaphore whose limit is never reached, and with a limit-1
// semaphore and the whole batch submitted at once. Prints throughput ratios against the baseline and the
// hand-off gaps of the limit-1 batch: the time from one workflow finishing to the next one finishing, which
// for a zero-length workflow is the hand-off (release, grant, status writes) plus its own bookkeeping. Where
// PostgreSQL runs on this machine, it also prints the CPU each mode costs per workflow, in this process (the
// runtimes and the bench's client) and in all of PostgreSQL's processes (so only a quiet machine gives clean figures).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { sql } from 'kysely';
import { startRuntime, type RunningRuntime } from '../runtime/runtime-process.js';
import { SqlWorkflowStore } from '../runtime/store/sql-workflow-store.js';
import { openDatabase } from '../runtime/store/sql-database.js';
import { createTestDatabase, createWholeDatabase, type TestDatabase } from '../test/support/databases.js';
import { runtimeApi } from '../test/support/runtime-api.js';
import { stateStoreUrl } from '../test/support/state-store-url.js';
import { ms, percentile } from './bench-support.js';
import { postgresCpuSeconds } from './support/processes.js';

const WORKFLOWS = Number(process.env.BENCH_WORKFLOWS ?? 200);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);

const MODES = ['none', 'non-binding', 'limit-1 batch'] as const;
type Mode = (typeof MODES)[number];

interface Controller {
  readonly runtime: RunningRuntime;
  readonly home: string;
  readonly stateStore: TestDatabase;
  /** When the bench heard that each workflow this runtime runs finished. */
  readonly finished: Map<string, number>;
  stopWatching(): Promise<void>;
}

// On the configured PostgreSQL (ARGOSYNC_TEST_POSTGRES, else the default), as the other benches.
const syncDatabase = await createWholeDatabase('postgresql');
const { host, port, database: syncDatabaseName, user: syncUser, password: syncPassword } = syncDatabase.spec;

async function startController(name: string): Promise<Controller> {
  const home = await mkdtemp(join(tmpdir(), 'argosync-bench-'));
  const stateStore = await createTestDatabase('postgresql');
  const config = join(home, 'argosync.yaml');
  const postgresql = { host, port, database: syncDatabaseName, userName: syncUser ?? 'postgres', ...(syncPassword ? { password: syncPassword } : {}) };
  await writeFile(config, stringify({ synchronization: { controllerName: name, postgresql } }), { mode: 0o600 });
  const runtime = await startRuntime(
    { home, config, stateStore: stateStoreUrl(stateStore.spec) },
    { port: 0, logFormat: 'json', logLevel: 'warn', apiRateLimit: '1000000000' },
    () => undefined,
  );
  // The bench's own view of the state store: phase changes as the runtime writes them.
  const view = await openDatabase(stateStore.spec);
  const store = new SqlWorkflowStore(view);
  const finished = new Map<string, number>();
  const stop = await store.watch((event) => {
    const key = `${event.namespace}/${event.name}`;
    if (event.type === 'DELETED' || finished.has(key)) return;
    const heard = performance.now();
    void store.get(event.namespace, event.name).then((workflow) => {
      if (['Succeeded', 'Failed', 'Error'].includes(workflow?.status?.phase ?? '') && !finished.has(key)) finished.set(key, heard);
    });
  });
  return {
    runtime,
    home,
    stateStore,
    finished,
    stopWatching: async () => {
      stop();
      await store.close();
      await view.destroy();
    },
  };
}

const synchronizationOf = (mode: Mode) => (mode === 'none' ? {} : { synchronization: { semaphores: [{ database: { key: mode === 'non-binding' ? 'wide' : 'one' } }] } });

/** Submits `count` workflows spread over the controllers and waits for all of them; returns workflows/s and the hand-off gaps. */
async function round(controllers: readonly Controller[], mode: Mode, count: number, label: string): Promise<{ rate: number; gaps: number[] }> {
  const namespace = `r-${label}`;
  const names = Array.from({ length: count }, (_, index) => `w-${index}`);
  const submit = async (name: string, index: number) => {
    const controller = controllers[index % controllers.length]!;
    const api = runtimeApi(() => controller.runtime);
    const response = await api('POST', `/workflows/${namespace}`, {
      workflow: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name }, spec: { entrypoint: 'main', templates: [{ name: 'main', suspend: { duration: '0s' } }], ...synchronizationOf(mode) } },
    });
    if (response.status !== 200) throw new Error(`submitting ${name}: ${response.status} ${JSON.stringify(response.json)}`);
  };
  const started = performance.now();
  if (mode === 'limit-1 batch') await Promise.all(names.map(submit));
  else for (const [index, name] of names.entries()) await submit(name, index);
  const finishedAt = () => names.map((name) => controllers.map((controller) => controller.finished.get(`${namespace}/${name}`)).find((time) => time !== undefined));
  while (finishedAt().some((time) => time === undefined)) await new Promise((resolve) => setTimeout(resolve, 20));
  const times = (finishedAt() as number[]).sort((a, b) => a - b);
  return { rate: count / ((times.at(-1)! - started) / 1000), gaps: times.slice(1).map((time, index) => time - times[index]!) };
}

async function scenario(controllerCount: 1 | 2): Promise<void> {
  const controllers: Controller[] = [];
  for (let index = 0; index < controllerCount; index += 1) controllers.push(await startController(`bench-${index}`));
  const syncDb = await openDatabase(syncDatabase.spec);
  const rates: Record<Mode, number[]> = { none: [], 'non-binding': [], 'limit-1 batch': [] };
  const cpu: Record<Mode, { runtime: number; postgres: number | undefined; workflows: number }> = {
    none: { runtime: 0, postgres: 0, workflows: 0 },
    'non-binding': { runtime: 0, postgres: 0, workflows: 0 },
    'limit-1 batch': { runtime: 0, postgres: 0, workflows: 0 },
  };
  const gaps: number[] = [];
  let serial = 0;
  /** A new round's namespace, with its own limit rows (limits live per namespace). */
  const nextLabel = async () => {
    const label = `${controllerCount}-${(serial += 1)}`;
    await sql`insert into sync_limit (name, sizelimit) values (${`r-${label}/wide`}, 1000000), (${`r-${label}/one`}, 1)`.execute(syncDb.db);
    return label;
  };
  // Every mode runs one full round before the measured ones, not only the baseline: a mode's first workflows also
  // open its pooled connections to the sync database and compile its code paths and server-side functions, and
  // the runtime's common paths keep getting faster for the first few hundred workflows. With a short warm-up the
  // baseline, measured first, ran colder than the modes after it, and the ratio read higher than in steady state.
  for (const mode of MODES) await round(controllers, mode, mode === 'limit-1 batch' ? BATCH : WORKFLOWS, await nextLabel());
  for (let index = 0; index < ROUNDS; index += 1) {
    for (const mode of MODES) {
      const label = await nextLabel();
      const count = mode === 'limit-1 batch' ? BATCH : WORKFLOWS;
      const [runtimeBefore, postgresBefore] = [process.cpuUsage(), await postgresCpuSeconds()];
      const result = await round(controllers, mode, count, label);
      const [runtimeUsed, postgresAfter] = [process.cpuUsage(runtimeBefore), await postgresCpuSeconds()];
      const spent = cpu[mode];
      spent.runtime += (runtimeUsed.user + runtimeUsed.system) / 1000;
      spent.postgres = postgresBefore === undefined || postgresAfter === undefined || spent.postgres === undefined ? undefined : spent.postgres + (postgresAfter - postgresBefore) * 1000;
      spent.workflows += count;
      rates[mode].push(result.rate);
      if (mode === 'limit-1 batch') gaps.push(...result.gaps);
    }
  }
  const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const baseline = mean(rates.none);
  const ratio = mean(rates['non-binding']) / baseline;
  const target = controllerCount === 1 ? 0.8 : 0.7;
  const gapTarget = controllerCount === 1 ? 100 : 250;
  const p90 = percentile(gaps, 90);
  console.log(`${controllerCount} controller${controllerCount === 1 ? '' : 's'} on PostgreSQL, ${WORKFLOWS} workflows per round, ${ROUNDS} alternating rounds:`);
  // Each round against the baseline round just before it: how far one round's ratio strays from the mean.
  const roundRatios = rates['non-binding'].map((rate, index) => rate / rates.none[index]!);
  console.log(
    `  without a semaphore ${baseline.toFixed(1)} workflows/s; non-binding database semaphore ${mean(rates['non-binding']).toFixed(1)} workflows/s → ${ratio.toFixed(2)}× ` +
      `(target ≥ ${target}: ${ratio >= target ? 'met' : 'MISSED'}; single rounds ${Math.min(...roundRatios).toFixed(2)}–${Math.max(...roundRatios).toFixed(2)}×)`,
  );
  const perWorkflow = (mode: Mode) => {
    const { runtime, postgres, workflows } = cpu[mode];
    return `${ms(runtime / workflows)} here${postgres === undefined ? '' : ` + ${ms(postgres / workflows)} in PostgreSQL`}`;
  };
  console.log(`  CPU per workflow: without a semaphore ${perWorkflow('none')}; non-binding ${perWorkflow('non-binding')}`);
  console.log(
    `  limit-1 batch of ${BATCH} submitted at once: ${mean(rates['limit-1 batch']).toFixed(1)} workflows/s; hand-off gap (finished → next finished) p50 ${ms(percentile(gaps, 50))}, ` +
      `p90 ${ms(p90)} (target ≤ ${gapTarget} ms: ${p90 <= gapTarget ? 'met' : 'MISSED'}), p99 ${ms(percentile(gaps, 99))}`,
  );
  await syncDb.destroy();
  for (const controller of controllers) {
    await controller.stopWatching();
    await controller.runtime.stop();
    await controller.stateStore.drop();
    await rm(controller.home, { recursive: true, force: true });
  }
}

try {
  await scenario(1);
  await scenario(2);
} finally {
  await syncDatabase.drop();
}
