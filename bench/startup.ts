// Start-up of the embedded runtime (SPEC §11): how long `argosync up` (the build, as `npm start` runs it) takes to
// print `argosync listening on` on a new and on an existing home, and its resident memory once idle, with the
// state store in PGlite and on PostgreSQL; against a bare `node -e` start measured in the same run.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '../test/support/databases.js';
import { stateStoreUrl } from '../test/support/state-store-url.js';
import { percentile } from './bench-support.js';
import { benchLogFile, startArgosync, startProcess, type StartedProcess } from './support/processes.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Long enough for the start-up's garbage to be collected and the first timers to have run. */
const IDLE_MS = 3000;
const TARGETS = { newHomeMs: 3000, existingHomeMs: 1500, pgliteRssMb: 200, postgresRssMb: 150 };
const log = benchLogFile('startup');

interface Sample {
  readyMs: number;
  rssMb: number;
}

async function sample(start: () => Promise<StartedProcess>): Promise<Sample> {
  const started = await start();
  await sleep(IDLE_MS);
  const rssMb = await started.rssMb();
  await started.stop();
  return { readyMs: started.readyMs, rssMb };
}

const samples: Record<'bare' | 'newHome' | 'existingHome' | 'postgres', Sample[]> = { bare: [], newHome: [], existingHome: [], postgres: [] };
let postgresMissing: string | undefined;
for (let round = 0; round < ROUNDS; round += 1) {
  samples.bare.push(await sample(() => startProcess(['-e', "console.log('ready'); setInterval(() => {}, 1 << 30)"], /^ready$/, log)));
  const home = await mkdtemp(join(tmpdir(), 'argosync-bench-startup-'));
  samples.newHome.push(await sample(() => startArgosync(home, log)));
  samples.existingHome.push(await sample(() => startArgosync(home, log)));
  await rm(home, { recursive: true, force: true });
  if (postgresMissing) continue;
  let database: TestDatabase;
  try {
    database = await createTestDatabase('postgresql');
  } catch (error) {
    postgresMissing = (error as Error).message;
    continue;
  }
  const postgresHome = await mkdtemp(join(tmpdir(), 'argosync-bench-startup-'));
  const stateStore = stateStoreUrl(database.spec);
  await sample(() => startArgosync(postgresHome, log, { stateStore })); // creates the schema
  samples.postgres.push(await sample(() => startArgosync(postgresHome, log, { stateStore })));
  await database.drop();
  await rm(postgresHome, { recursive: true, force: true });
}

const median = (values: Sample[], key: keyof Sample) => percentile(values.map((value) => value[key]), 50);
const bare = { readyMs: median(samples.bare, 'readyMs'), rssMb: median(samples.bare, 'rssMb') };
const verdict = (value: number, target: number) => (value <= target ? 'met' : 'MISSED');
const line = (label: string, values: Sample[], readyTarget: number | undefined, rssTarget: number) => {
  const readyMs = median(values, 'readyMs');
  const rssMb = median(values, 'rssMb');
  const ready = `ready ${(readyMs / 1000).toFixed(2)} s (${(readyMs / bare.readyMs).toFixed(1)}× bare${readyTarget ? `; target ≤ ${readyTarget / 1000} s: ${verdict(readyMs, readyTarget)}` : ''})`;
  console.log(`  ${label.padEnd(28)} ${ready}, idle RSS ${rssMb.toFixed(0)} MB (${(rssMb / bare.rssMb).toFixed(1)}× bare; target ≤ ${rssTarget} MB: ${verdict(rssMb, rssTarget)})`);
};
console.log(`argosync up, median of ${ROUNDS} rounds; bare \`node -e\`: ready ${bare.readyMs.toFixed(0)} ms, RSS ${bare.rssMb.toFixed(0)} MB`);
line('new home (PGlite):', samples.newHome, TARGETS.newHomeMs, TARGETS.pgliteRssMb);
line('existing home (PGlite):', samples.existingHome, TARGETS.existingHomeMs, TARGETS.pgliteRssMb);
if (postgresMissing) console.log(`  state store on PostgreSQL: skipped, ${postgresMissing}`);
else line('state store on PostgreSQL:', samples.postgres, undefined, TARGETS.postgresRssMb);
