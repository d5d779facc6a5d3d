// Acquire+release cycles per second on one database semaphore shared by three controllers, against
// `pgbench -b tpcb-like` transactions per second on the same PostgreSQL server in the same run.
import { spawnSync } from 'node:child_process';
import { DATABASE_SEMAPHORE, startCluster } from './bench-support.js';
import type { Driver } from '../runtime/store/connection-spec.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONTROLLERS = 3;
const WORKFLOWS_PER_CONTROLLER = 2;
const TARGET_RATIO = 0.4;

function pgbenchTps(): number | undefined {
  const connection = ['-h', '127.0.0.1', '-p', '5432', '-U', 'postgres'];
  const run = (args: string[]) => spawnSync('pgbench', [...connection, ...args, 'test'], { encoding: 'utf8' });
  const init = run(['-i', '-s', '1', '-q', '--foreign-keys']);
  if (init.error || init.status !== 0) {
    console.log(`pgbench unavailable (${init.error?.message ?? init.stderr.trim()}): install postgresql-contrib or the postgresql client package`);
    return undefined;
  }
  const bench = run(['-b', 'tpcb-like', '-c', String(CONTROLLERS), '-j', String(CONTROLLERS), '-T', String(SECONDS), '-n']);
  run(['-i', '-I', 'd']); // drop pgbench's tables again
  const tps = /tps = ([\d.]+)/.exec(bench.stdout)?.[1];
  return tps === undefined ? undefined : Number(tps);
}

async function cyclesPerSecond(driver: Driver, limit: number): Promise<number> {
  const cluster = await startCluster(driver, CONTROLLERS, limit);
  let cycles = 0;
  const deadline = performance.now() + SECONDS * 1000;
  let counter = 0;
  const worker = async (controllerIndex: number) => {
    const controller = cluster.controllers[controllerIndex]!;
    while (performance.now() < deadline) {
      const workflow = { name: `w-${controllerIndex}-${(counter += 1)}` };
      await controller.acquireWhenWoken(workflow, DATABASE_SEMAPHORE);
      await controller.manager.releaseAll('ns', workflow.name);
      cycles += 1;
    }
  };
  const started = performance.now();
  await Promise.all(cluster.controllers.flatMap((_, index) => Array.from({ length: WORKFLOWS_PER_CONTROLLER }, () => worker(index))));
  const elapsed = (performance.now() - started) / 1000;
  await cluster.close();
  return cycles / elapsed;
}

const tps = pgbenchTps();
const WORKFLOWS = CONTROLLERS * WORKFLOWS_PER_CONTROLLER;
// limit = workflows in flight: nobody waits, so this is the cost of the protocol itself (the SPEC target);
// limit 1: every cycle is a hand-off between workflows, often across controllers (bounded by hand-off latency).
for (const driver of ['postgresql', 'mysql'] as const) {
  for (const limit of [WORKFLOWS, 1]) {
    const rate = await cyclesPerSecond(driver, limit);
    const compared =
      driver === 'postgresql' && tps !== undefined
        ? `; pgbench tpcb-like (${CONTROLLERS} clients) ${tps.toFixed(0)} tps → ratio ${(rate / tps).toFixed(2)}` +
          (limit === WORKFLOWS ? ` (target ≥ ${TARGET_RATIO}: ${rate / tps >= TARGET_RATIO ? 'met' : 'MISSED'})` : '')
        : '';
    console.log(`${driver}, limit ${limit}: ${CONTROLLERS} controllers × ${WORKFLOWS_PER_CONTROLLER} workflows: ${rate.toFixed(0)} acquire+release cycles/s${compared}`);
  }
}
