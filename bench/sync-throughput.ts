// Acquire+release cycles per second on one database semaphore shared by three controllers with 16 acquirers
// each, against `pgbench -b tpcb-like` transactions per second on the same PostgreSQL server in the same run
// (MariaDB: against autocommitted single-row updates from as many clients).
// It also checks safety under that contention: no acquisition fails, an observer reading the held rows never
// sees more than the limit, and the fencing tokens handed out are exactly 1…n.
import { spawnSync } from 'node:child_process';
import { sql } from 'kysely';
import { DATABASE_SEMAPHORE, startCluster } from './bench-support.js';
import { createTestDatabase, testServer } from '../test/support/databases.js';
import type { Driver } from '../runtime/store/connection-spec.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const CONTROLLERS = 3;
const WORKFLOWS_PER_CONTROLLER = 16;
const TARGET_RATIO = 0.4;

/** pgbench on the configured PostgreSQL test server (ARGOSYNC_TEST_POSTGRES), its password in the environment. */
function pgbenchTps(): number | undefined {
  const { host, port, user, password, database } = testServer('postgresql');
  const option = (name: string, value: string | number | undefined) => (value === undefined ? [] : [name, String(value)]);
  const connection = [...option('-h', host), ...option('-p', port), ...option('-U', user)];
  const env = { ...process.env, ...(password === undefined ? {} : { PGPASSWORD: password }) };
  const run = (args: string[]) => spawnSync('pgbench', [...connection, ...args, ...(database === undefined ? [] : [database])], { encoding: 'utf8', env });
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

interface Run {
  readonly rate: number;
  readonly failures: string[];
  readonly mostHoldersSeen: number;
  readonly tokensInOrder: boolean;
}

/**
 * MariaDB's baseline in the same run, in place of mysqlslap: autocommitted single-row updates per second from
 * as many clients as there are controllers, on a fresh database of the same server.
 */
async function singleRowUpdatesPerSecond(driver: Driver): Promise<number> {
  const database = await createTestDatabase(driver);
  const handle = await database.open();
  await sql`create table bench_counter (id int primary key, n bigint not null)`.execute(handle.db);
  await sql`insert into bench_counter values (1, 0)`.execute(handle.db);
  let updates = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const client = async () => {
    const own = await database.open();
    while (performance.now() < deadline) {
      await sql`update bench_counter set n = n + 1 where id = 1`.execute(own.db);
      updates += 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONTROLLERS }, client));
  const rate = updates / ((performance.now() - started) / 1000);
  await database.drop();
  return rate;
}

async function cyclesPerSecond(driver: Driver, limit: number): Promise<Run> {
  const cluster = await startCluster(driver, CONTROLLERS, limit);
  let cycles = 0;
  const deadline = performance.now() + SECONDS * 1000;
  let counter = 0;
  const failures: string[] = [];
  const tokens: number[] = [];
  let running = true;
  let mostHoldersSeen = 0;
  const observer = (async () => {
    while (running) mostHoldersSeen = Math.max(mostHoldersSeen, await cluster.heldRows());
  })();
  const worker = async (controllerIndex: number) => {
    const controller = cluster.controllers[controllerIndex]!;
    while (performance.now() < deadline) {
      const workflow = { name: `w-${controllerIndex}-${(counter += 1)}` };
      try {
        const result = await controller.acquireWhenWoken(workflow, DATABASE_SEMAPHORE);
        if (result.acquired) tokens.push(result.holds[0]?.token ?? 0);
        await controller.manager.releaseAll('ns', workflow.name);
        cycles += 1;
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  const started = performance.now();
  await Promise.all(cluster.controllers.flatMap((_, index) => Array.from({ length: WORKFLOWS_PER_CONTROLLER }, () => worker(index))));
  const elapsed = (performance.now() - started) / 1000;
  running = false;
  await observer;
  await cluster.close();
  const sorted = [...tokens].sort((x, y) => x - y);
  return { rate: cycles / elapsed, failures, mostHoldersSeen, tokensInOrder: sorted.every((token, index) => token === index + 1) };
}

const tps = pgbenchTps();
const mysqlBaseline = await singleRowUpdatesPerSecond('mysql');
const WORKFLOWS = CONTROLLERS * WORKFLOWS_PER_CONTROLLER;
// limit = workflows in flight: nobody waits, so this is the cost of the protocol itself (the SPEC target);
// limit 1: every cycle is a hand-off between workflows, often across controllers (bounded by hand-off latency).
for (const driver of ['postgresql', 'mysql'] as const) {
  for (const limit of [WORKFLOWS, 1]) {
    const { rate, failures, mostHoldersSeen, tokensInOrder } = await cyclesPerSecond(driver, limit);
    const compared =
      driver === 'postgresql'
        ? tps === undefined
          ? ''
          : `; pgbench tpcb-like (${CONTROLLERS} clients) ${tps.toFixed(0)} tps → ratio ${(rate / tps).toFixed(2)}` +
            (limit === WORKFLOWS ? ` (target ≥ ${TARGET_RATIO}: ${rate / tps >= TARGET_RATIO ? 'met' : 'MISSED'})` : '')
        : `; single-row updates (${CONTROLLERS} clients, autocommit) ${mysqlBaseline.toFixed(0)}/s → ratio ${(rate / mysqlBaseline).toFixed(2)}`;
    console.log(`${driver}, limit ${limit}: ${CONTROLLERS} controllers × ${WORKFLOWS_PER_CONTROLLER} workflows: ${rate.toFixed(0)} acquire+release cycles/s${compared}`);
    console.log(`  failed acquisitions ${failures.length}, most holders seen ${mostHoldersSeen} (limit ${limit}), fencing tokens 1…n: ${tokensInOrder ? 'yes' : 'NO'}`);
    if (failures.length > 0 || mostHoldersSeen > limit || !tokensInOrder) {
      console.log(`  UNSAFE or failing: ${[...new Set(failures)].slice(0, 3).join('; ')}`);
      process.exitCode = 1;
    }
  }
}
