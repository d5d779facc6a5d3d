// GET /api/v1/sync/{ns}/{key} throughput and p99 on the embedded runtime (TLS on, auth on, rate limit raised),
// against a bare node:https server returning the same JSON with the same certificate, in the same run.
// The runtime reads the limit from its store on every request (PGlite by default; BENCH_STATE_STORE=postgres://...
// measures PostgreSQL), as Argo does: a cache would let one server replica answer 404 for a limit just created
// through another.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import { tlsDirectory } from '../runtime/server/tls.js';
import { benchLogFile, startArgosync, startProcess } from './support/processes.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 10;
const TARGET_RATIO = 0.5;
const log = benchLogFile('api');

async function measure(url: string, headers: Record<string, string>) {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

const home = await mkdtemp(join(tmpdir(), 'argosync-bench-api-'));
const runtime = await startArgosync(home, log, ['--api-rate-limit', '1000000000', ...(process.env.BENCH_STATE_STORE ? ['--state-store', process.env.BENCH_STATE_STORE] : [])]);
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
const argosync = await measure(`${runtime.url}${path}`, headers);

const body = JSON.stringify({ type: 1, namespace: 'bench', key: 'gpu', limit: 4 });
const tls = tlsDirectory(home);
const bare = await startProcess(
  ['--import', 'tsx', fileURLToPath(new URL('support/bare-https.ts', import.meta.url)), join(tls, 'tls.crt'), join(tls, 'tls.key'), body],
  /^listening on (\S+)/,
  log,
);
const baseline = await measure(`${bare.ready}${path}`, {});
await bare.stop();
await runtime.stop();
await rm(home, { recursive: true, force: true });

const ratio = argosync.rps / baseline.rps;
console.log(`GET /${path} over TLS, ${CONNECTIONS} connections, ${SECONDS}s each, each server in a process of its own:`);
console.log(`  argosync (auth, rate limit, database read): ${argosync.rps.toFixed(0)} req/s, p99 ${argosync.p99} ms`);
console.log(`  bare node:https, same JSON:                 ${baseline.rps.toFixed(0)} req/s, p99 ${baseline.p99} ms`);
console.log(`  ratio ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'MISSED'})`);
