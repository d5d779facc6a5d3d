// Child process of bench/queue.ts: a fresh runtime on the state store of ARGOSYNC_STATE_STORE (prepared by the
// parent, so that nothing but the runtime has run in this process), whose controller queues the workflows it finds
// waiting at start; reports its RSS as JSON on stdout.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRuntime } from '../../runtime/runtime-process.js';

const home = await mkdtemp(join(tmpdir(), 'argosync-bench-queue-'));
const started = performance.now();
const runtime = await startRuntime({ home }, { port: 0, logFormat: 'json' }, () => undefined);
const startupMs = performance.now() - started;
globalThis.gc?.();
const memory = process.memoryUsage();
const megabytes = (bytes: number) => bytes / 1024 / 1024;
process.stdout.write(`${JSON.stringify({ rssMb: megabytes(memory.rss), heapMb: megabytes(memory.heapUsed), externalMb: megabytes(memory.external + memory.arrayBuffers), startupMs })}\n`);
await runtime.stop();
await rm(home, { recursive: true, force: true });
