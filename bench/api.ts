// GET /api/v1/sync/{ns}/{key} throughput and p99 on the embedded runtime (TLS on, auth on, rate limit raised),
// against a bare node:https server returning the same JSON with the same certificate, in the same run.
// The runtime reads the limit from its store: on the default embedded store (PGlite) from the cache this process
// alone writes; BENCH_STATE_STORE=postgres://... measures a database read on PostgreSQL.
// On PGlite this process is the database's only writer, so reads are served from LimitReadCache, which every write
// updates; on PostgreSQL every request reads the database, as Argo does: a cache would let one server replica answer
// 404 for a limit just created through another.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import { tlsDirectory } from '../runtime/server/tls.js';
import { percentile } from './bench-support.js';
import { benchLogFile, startArgosync, startProcess, type StartedProcess } from './support/processes.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/**
 * Each server is measured in this many rounds of SECONDS / ROUNDS, the two alternating, so that load from other
 * processes on the machine weighs on both alike instead of on whichever happened to run while it peaked.
 */
const ROUNDS = 5;
const CONNECTIONS = 10;
/** Each server first answers this long unmeasured, so neither is measured while its code is still being optimised. */
const WARM_UP_SECONDS = 1;
const TARGET_RATIO = 0.5;
const log = benchLogFile('api');

interface Target {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly server: StartedProcess;
  requests: number;
  /** The server's CPU seconds over the measured rounds: its cost per request, whatever else loads the machine. */
  cpuSeconds: number;
  readonly p99s: number[];
}

async function run(target: Target, seconds: number) {
  const cpuBefore = await target.server.cpuSeconds();
  const result = await autocannon({ url: target.url, connections: CONNECTIONS, duration: seconds, headers: target.headers });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${target.url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`);
  return { result, cpuSeconds: (await target.server.cpuSeconds()) - cpuBefore };
}

const home = await mkdtemp(join(tmpdir(), 'argosync-bench-api-'));
const runtime = await startArgosync(home, log, { args: ['--api-rate-limit', '1000000000'], stateStore: process.env.BENCH_STATE_STORE || undefined });
const headers = { authorization: `Bearer ${runtime.token}`, 'content-type': 'application/json' };
const created = await request(`${runtime.url}api/v1/sync/bench`, {
  method: 'POST',
  headers,
  body: JSON.stringify({ type: 1, key: 'gpu', limit: 4 }),
  dispatcher: new Agent({ connect: { rejectUnauthorized: false } }),
});
// 409: a shared database (BENCH_STATE_STORE) may keep the limit from an earlier run.
if (created.statusCode !== 200 && created.statusCode !== 409) throw new Error(`could not create the limit: ${await created.body.text()}`);
const path = process.env.BENCH_PATH ?? 'api/v1/sync/bench/gpu?type=DATABASE';

const body = JSON.stringify({ type: 1, namespace: 'bench', key: 'gpu', limit: 4 });
const tls = tlsDirectory(home);
const bare = await startProcess(
  ['--import', 'tsx', fileURLToPath(new URL('support/bare-https.ts', import.meta.url)), join(tls, 'tls.crt'), join(tls, 'tls.key'), body],
  /^listening on (\S+)/,
  log,
);
const argosync: Target = { url: `${runtime.url}${path}`, headers, server: runtime, requests: 0, cpuSeconds: 0, p99s: [] };
const baseline: Target = { url: `${bare.ready}${path}`, headers: {}, server: bare, requests: 0, cpuSeconds: 0, p99s: [] };
for (const target of [argosync, baseline]) await run(target, WARM_UP_SECONDS);
for (let round = 0; round < ROUNDS; round += 1) {
  for (const target of [argosync, baseline]) {
    const { result, cpuSeconds } = await run(target, SECONDS / ROUNDS);
    target.requests += result.requests.total;
    target.cpuSeconds += cpuSeconds;
    target.p99s.push(result.latency.p99);
  }
}
await bare.stop();
await runtime.stop();
await rm(home, { recursive: true, force: true });

const rps = (target: Target) => target.requests / SECONDS;
const cpuUs = (target: Target) => ((target.cpuSeconds / target.requests) * 1e6).toFixed(1);
const p99 = (target: Target) => percentile(target.p99s, 50);
const ratio = rps(argosync) / rps(baseline);
console.log(`GET /${path} over TLS, ${CONNECTIONS} connections, ${SECONDS}s each in ${ROUNDS} alternating rounds after ${WARM_UP_SECONDS}s of warm-up, each server in a process of its own:`);
const read = process.env.BENCH_STATE_STORE ? 'database read' : 'embedded store, cached read';
console.log(`  argosync (auth, rate limit, ${read}): ${rps(argosync).toFixed(0)} req/s, p99 ${p99(argosync)} ms (median of the rounds), ${cpuUs(argosync)} µs CPU per request`);
console.log(`  bare node:https, same JSON:                 ${rps(baseline).toFixed(0)} req/s, p99 ${p99(baseline)} ms, ${cpuUs(baseline)} µs CPU per request`);
console.log(`  ratio ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'MISSED'})`);
