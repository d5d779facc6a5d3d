// Child processes for the benches: the built `argosync` command as a user starts it (its log lines go to a file,
// never to the bench's output), and bare `node` baselines; their readiness time and resident memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, existsSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/runtime/cli.js', import.meta.url));

/**
 * Where a bench's children write their log lines: a new file in a new owner-only folder of the temporary
 * directory, so no other local user can read the logs or place a file or link where they are written.
 */
export function benchLogFile(bench: string): string {
  const file = join(mkdtempSync(join(tmpdir(), `argosync-bench-${bench}-`)), `${bench}.log`);
  writeFileSync(file, '', { mode: 0o600 });
  return file;
}

export interface StartedProcess {
  readonly pid: number;
  /** From spawn to the line that says it is ready, in ms. */
  readonly readyMs: number;
  /** The first capture group of the ready pattern (the URL for argosync). */
  readonly ready: string;
  /** Resident set size now, in MB. */
  rssMb(): Promise<number>;
  /** CPU time (user and system) the process has used so far, in seconds. */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts `node args…` and resolves once a stdout line matches `readyPattern`; stdout and stderr go to `logFile`. */
export async function startProcess(args: readonly string[], readyPattern: RegExp, logFile: string, env: NodeJS.ProcessEnv = process.env): Promise<StartedProcess> {
  const log = createWriteStream(logFile, { flags: 'a' });
  // The child writes its log lines (stderr) to the file itself: piped through this process, each line would cost
  // the bench's load generator a read and a write, and so slow the client measuring a server that logs.
  const stderr = openSync(logFile, 'a');
  const started = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', stderr] });
  closeSync(stderr);
  const ready = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      const match = readyPattern.exec(line);
      if (match) resolve(match[1] ?? line);
    });
    child.once('exit', (code, signal) => reject(new Error(`node ${args.join(' ')} exited with ${code ?? signal} before it was ready; see ${logFile}`)));
  });
  const readyMs = performance.now() - started;
  return { pid: child.pid!, readyMs, ready, rssMb: () => residentMb(child.pid!), cpuSeconds: () => cpuSeconds(child.pid!), stop: () => stopChild(child) };
}

export interface RuntimeProcess extends StartedProcess {
  readonly url: string;
  readonly token: string;
}

export interface ArgosyncOptions {
  readonly args?: readonly string[];
  /** The state-store URL, passed in `ARGOSYNC_STATE_STORE`: on the command line, its password would show in process listings. */
  readonly stateStore?: string;
}

/** `argosync up` from the build (as `npm start` runs it) on `home`, on an ephemeral port, with a known admin token. */
export async function startArgosync(home: string, logFile: string, options: ArgosyncOptions = {}): Promise<RuntimeProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const token = randomBytes(24).toString('base64url');
  const started = await startProcess([CLI, 'up', '--home', home, '--port', '0', '--log-format', 'json', ...(options.args ?? [])], /^argosync listening on (\S+)/, logFile, {
    ...process.env,
    ARGOSYNC_ADMIN_TOKEN: token,
    ...(options.stateStore === undefined ? {} : { ARGOSYNC_STATE_STORE: options.stateStore }),
  });
  return { ...started, url: started.ready, token };
}

/** The RSS of a process in MB, from /proc on Linux. */
async function residentMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kilobytes = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  return kilobytes / 1024;
}

/** utime + stime of a process, from /proc on Linux (fields 14 and 15, in clock ticks of 1/100 s). */
/**
 * CPU time used so far by every PostgreSQL server process on this machine (backends, WAL writer…), in seconds;
 * undefined when the server is not local. Backends that exit meanwhile are not counted.
 */
export async function postgresCpuSeconds(): Promise<number | undefined> {
  let total: number | undefined;
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    const command = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (command.trim() !== 'postgres') continue;
    total = (total ?? 0) + (await cpuSeconds(Number(pid)).catch(() => 0));
  }
  return total;
}

async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after it are counted from its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
