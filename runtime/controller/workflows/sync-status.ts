import type { RecordedHold } from '../sync/sync-manager.js';
import type { SyncItem } from '../sync/sync-items.js';
import type { Draft, SynchronizationStatus, Workflow } from './workflow.js';

type SyncDraft = Draft<SynchronizationStatus>;

function isMutex(item: SyncItem): boolean {
  return item.identity.kind === 'Mutex' || (item.identity.kind === 'Database' && item.identity.mutex);
}

/** Records the holds just granted to `holderKey` in `status.synchronization` (Argo's `LockAcquired`), with their fencing tokens. */
export function recordHolding(status: SyncDraft, items: readonly SyncItem[], tokens: readonly (number | undefined)[], holderKey: string): void {
  for (const [index, item] of items.entries()) {
    forgetWaiting(status, item.lockName, holderKey);
    const token = tokens[index];
    if (token !== undefined) (status.fencingTokens ??= {})[`${item.lockName} ${holderKey}`] = token;
    if (isMutex(item)) {
      const holding = ((status.mutex ??= {}).holding ??= []);
      if (!holding.some((entry) => entry.mutex === item.lockName && entry.holder === holderKey)) holding.push({ mutex: item.lockName, holder: holderKey });
      continue;
    }
    const holding = ((status.semaphore ??= {}).holding ??= []);
    const entry = holding.find((candidate) => candidate.semaphore === item.lockName);
    if (!entry) holding.push({ semaphore: item.lockName, holders: [holderKey] });
    else if (!entry.holders.includes(holderKey)) entry.holders.push(holderKey);
  }
}

/**
 * Argo's `LockWaiting`: the lock waited on, with its current holders (a mutex records its first holder only);
 * `currentHolders` undefined (the lock could not look) keeps what an earlier pass recorded.
 */
export function recordWaiting(status: SyncDraft, item: SyncItem, currentHolders: readonly string[] | undefined): void {
  if (isMutex(item)) {
    const waiting = ((status.mutex ??= {}).waiting ??= []);
    const holder = currentHolders?.[0];
    const existing = waiting.findIndex((entry) => entry.mutex === item.lockName);
    if (holder === undefined) return;
    if (existing >= 0) waiting[existing] = { mutex: item.lockName, holder };
    else waiting.push({ mutex: item.lockName, holder });
    return;
  }
  const waiting = ((status.semaphore ??= {}).waiting ??= []);
  const existing = waiting.findIndex((entry) => entry.semaphore === item.lockName);
  const entry = { semaphore: item.lockName, holders: [...(currentHolders ?? waiting[existing]?.holders ?? [])] };
  if (existing >= 0) waiting[existing] = entry;
  else waiting.push(entry);
}

function forgetWaiting(status: SyncDraft, lockName: string, holderKey: string): void {
  if (status.semaphore?.waiting) status.semaphore.waiting = status.semaphore.waiting.filter((entry) => entry.semaphore !== lockName);
  if (status.mutex?.waiting) status.mutex.waiting = status.mutex.waiting.filter((entry) => entry.mutex !== lockName);
  if (status.fencingTokens) delete status.fencingTokens[`${lockName} ${holderKey}`];
}

/** Argo's `LockReleased`: the holder leaves every semaphore entry (kept, maybe empty) and its mutex entries go. */
export function recordReleased(status: SyncDraft, holderKey: string): void {
  for (const entry of status.semaphore?.holding ?? []) entry.holders = entry.holders.filter((holder) => holder !== holderKey);
  if (status.mutex?.holding) status.mutex.holding = status.mutex.holding.filter((entry) => entry.holder !== holderKey);
  for (const key of Object.keys(status.fencingTokens ?? {})) if (key.endsWith(` ${holderKey}`)) delete status.fencingTokens![key];
}

/** Whether `holderKey` holds every lock of the block according to the status. */
export function holdsAll(status: SynchronizationStatus | undefined, items: readonly SyncItem[], holderKey: string): boolean {
  return items.every((item) =>
    isMutex(item)
      ? (status?.mutex?.holding ?? []).some((entry) => entry.mutex === item.lockName && entry.holder === holderKey)
      : (status?.semaphore?.holding ?? []).some((entry) => entry.semaphore === item.lockName && entry.holders.includes(holderKey)),
  );
}

/** The holds a running workflow's status records, to re-establish at controller start (SPEC §5 rule 7). */
export function recordedHolds(workflow: Workflow): RecordedHold[] {
  const { namespace, name } = workflow.metadata;
  const synchronization = workflow.status?.synchronization;
  const holds: RecordedHold[] = [];
  for (const entry of synchronization?.semaphore?.holding ?? []) {
    for (const holderKey of entry.holders) holds.push({ namespace, workflowName: name, lockName: entry.semaphore, type: 'semaphore', holderKey });
  }
  for (const entry of synchronization?.mutex?.holding ?? []) holds.push({ namespace, workflowName: name, lockName: entry.mutex, type: 'mutex', holderKey: entry.holder });
  return holds;
}
