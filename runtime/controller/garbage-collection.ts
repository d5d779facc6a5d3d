import { systemClock, type Clock } from '../clock.js';
import type { WorkflowStore } from '../store/workflow-store.js';
import type { WorkflowArchive } from './archive/workflow-archive.js';
import type { SqlOffloadRepository } from './offload/offload-repository.js';

export interface GarbageCollectionOptions {
  readonly store: WorkflowStore;
  /** The offload table in use, or undefined when node status offload is off. */
  readonly offload: () => SqlOffloadRepository | undefined;
  /** The archive and its `archiveTTL` in ms, or undefined when archiving or the TTL is off. */
  readonly archive: () => { readonly archive: WorkflowArchive; readonly ttlMs: number } | undefined;
  /** `OFFLOAD_NODE_STATUS_TTL`. */
  readonly offloadTtlMs: number;
  /** `WORKFLOW_GC_PERIOD`. */
  readonly offloadPeriodMs: number;
  /** `ARCHIVED_WORKFLOW_GC_PERIOD`. */
  readonly archivePeriodMs: number;
  readonly say: (line: string) => void;
  readonly clock?: Pick<Clock, 'now'>;
}

/**
 * The leader's periodic collections (Argo's offload GC and archived-workflow GC): old offloaded node versions
 * that no workflow points at any more, and archived workflows finished longer than `archiveTTL` ago. Each runs
 * first after one full period. Returns a function that stops both.
 */
export function startGarbageCollection(options: GarbageCollectionOptions): () => void {
  const timers = [
    every(options, options.offloadPeriodMs, 'offload', () => collectOffloads(options)),
    every(options, options.archivePeriodMs, 'archive', async () => {
      const target = options.archive();
      return target ? target.archive.collectExpired(target.ttlMs) : 0;
    }),
  ];
  return () => timers.forEach((timer) => clearInterval(timer));
}

export async function collectOffloads(
  options: Pick<GarbageCollectionOptions, 'offload' | 'offloadTtlMs' | 'clock'> & { readonly store: Pick<WorkflowStore, 'list'> },
): Promise<number> {
  const offload = options.offload();
  if (!offload) return 0;
  // Taken before the live versions are read: a version saved while they are read is never collected this
  // round, however long the read takes, even though no workflow pointed at it yet.
  const writtenBefore = new Date((options.clock ?? systemClock).now() - options.offloadTtlMs);
  const liveVersions = new Map<string, string | undefined>();
  let token: string | undefined;
  do {
    const page = await options.store.list({ limit: 500, ...(token ? { continue: token } : {}) });
    for (const workflow of page.items) liveVersions.set(workflow.metadata.uid, workflow.status?.offloadNodeStatusVersion);
    token = page.continue;
  } while (token);
  return offload.collect(writtenBefore, async (uid) => liveVersions.get(uid));
}

function every(options: GarbageCollectionOptions, periodMs: number, what: string, collect: () => Promise<number>): NodeJS.Timeout {
  const timer = setInterval(() => {
    collect().then(
      (deleted) => deleted > 0 && options.say(`${what} garbage collection deleted ${deleted} rows`),
      (error: unknown) => options.say(`${what} garbage collection failed, retrying next period: ${(error as Error).message}`),
    );
  }, periodMs);
  timer.unref();
  return timer;
}
