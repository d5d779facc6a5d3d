// Hand-off latency: from the release of a hold to the next waiter (on the same or another controller) holding it.
// Baseline in the same run: one `select 1` round trip on the same database. Argo's design waits up to
// pollSeconds (10 s) for a waiter on another controller.
import { CONFIGMAP_SEMAPHORE, DATABASE_SEMAPHORE, ms, percentile, startCluster } from './bench-support.js';
import type { Synchronization } from '../runtime/controller/sync/sync-items.js';
import type { Driver } from '../runtime/store/connection-spec.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
// A controller runs for long: its first hand-offs, which plan the release function's statements (PGlite plans
// them in its one single-threaded backend) and warm the JIT, are run but not measured.
const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP_ROUNDS ?? 20);

interface Scenario {
  readonly title: string;
  readonly driver: Driver;
  readonly controllers: 1 | 2;
  readonly synchronization: Synchronization;
  readonly targetP99Ms: number;
}

const scenarios: Scenario[] = [
  { title: 'same controller, ConfigMap semaphore', driver: 'pglite', controllers: 1, synchronization: CONFIGMAP_SEMAPHORE, targetP99Ms: 10 },
  { title: 'same controller, database semaphore on PGlite', driver: 'pglite', controllers: 1, synchronization: DATABASE_SEMAPHORE, targetP99Ms: 10 },
  { title: 'same controller, database semaphore on PostgreSQL', driver: 'postgresql', controllers: 1, synchronization: DATABASE_SEMAPHORE, targetP99Ms: 10 },
  { title: 'two controllers on PostgreSQL (LISTEN/NOTIFY)', driver: 'postgresql', controllers: 2, synchronization: DATABASE_SEMAPHORE, targetP99Ms: 50 },
  { title: 'two controllers on MariaDB (fast polling)', driver: 'mysql', controllers: 2, synchronization: DATABASE_SEMAPHORE, targetP99Ms: 250 },
];

// BENCH_ONLY=<text> runs the scenarios whose title contains it.
for (const scenario of scenarios.filter((candidate) => candidate.title.includes(process.env.BENCH_ONLY ?? ''))) {
  const cluster = await startCluster(scenario.driver, scenario.controllers, 1);
  const holderSide = cluster.controllers[0]!;
  const waiterSide = cluster.controllers.at(-1)!;
  const latencies: number[] = [];
  process.stdout.write(`${scenario.title}: `);
  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round += 1) {
    const holder = { name: `holder-${round}` };
    const waiter = { name: `waiter-${round}` };
    await holderSide.acquire(holder, scenario.synchronization);
    if ((await waiterSide.acquire(waiter, scenario.synchronization)).acquired) throw new Error('the waiter should have waited');
    const acquired = waiterSide.acquireAtNextWake(waiter, scenario.synchronization);
    const start = performance.now();
    await holderSide.manager.releaseAll('ns', holder.name);
    await acquired;
    if (round >= 0) latencies.push(performance.now() - start);
    await waiterSide.manager.releaseAll('ns', waiter.name);
    if (round % 50 === 49) process.stdout.write('.');
  }
  const roundTrip = percentile(await cluster.roundTripMs(), 50);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(
    `\n  after ${WARMUP_ROUNDS} warm-up rounds: p50 ${ms(p50)}, p99 ${ms(p99)} (target p99 ≤ ${scenario.targetP99Ms} ms: ${(p99 / scenario.targetP99Ms).toFixed(2)}× of target, ` +
      `${p99 <= scenario.targetP99Ms ? 'met' : 'MISSED'}); baseline select-1 round trip p50 ${ms(roundTrip)} → p99 hand-off = ${(p99 / roundTrip).toFixed(1)} round trips; ` +
      `Argo waits up to 10000 ms (${(10_000 / p99).toFixed(0)}× slower)`,
  );
  await cluster.close();
}
