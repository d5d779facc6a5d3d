import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a stopped node gets to exit after SIGTERM before SIGKILL. */
export const STOP_GRACE_MS = 2_000;
/** How often an orphan being stopped is looked at (it is not our child: no exit event). */
const ORPHAN_POLL_MS = 20;
const RECORD_FILE = 'pid';

/**
 * A process's start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`), which tells a live process
 * from a later one that reused its pid. Undefined when the process is gone or there is no /proc.
 */
async function startTimeOf(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Writes `<pid> <start time>` to the node's directory, for stopOrphan after a crash of this runtime. */
export async function recordProcess(directory: string, pid: number): Promise<void> {
  await writeFile(join(directory, RECORD_FILE), `${pid} ${(await startTimeOf(pid)) ?? ''}\n`);
}

/** Drops the record once the node's process has ended. */
export async function forgetProcess(directory: string): Promise<void> {
  await rm(join(directory, RECORD_FILE), { force: true });
}

/**
 * Stops the process group a previous runtime recorded in `directory` if that very process still runs (SIGTERM,
 * then SIGKILL after a grace period), and forgets the record. Returns whether there was one to stop.
 */
export async function stopOrphan(directory: string): Promise<boolean> {
  const file = join(directory, RECORD_FILE);
  let record: string;
  try {
    record = await readFile(file, 'utf8');
  } catch {
    return false;
  }
  const [pidText, startTime] = record.trim().split(' ');
  const pid = Number(pidText);
  const alive = async () => startTime !== undefined && startTime !== '' && (await startTimeOf(pid)) === startTime;
  const stopped = Number.isInteger(pid) && pid > 0 && (await alive());
  if (stopped) {
    killGroup(pid, 'SIGTERM');
    for (let waited = 0; waited < STOP_GRACE_MS && (await alive()); waited += ORPHAN_POLL_MS) await sleep(ORPHAN_POLL_MS);
    if (await alive()) killGroup(pid, 'SIGKILL');
  }
  await forgetProcess(directory);
  return stopped;
}

/** Signals a node's whole process group (its command and everything that started). */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
