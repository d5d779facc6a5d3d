import { InvalidArgumentError } from '../../errors.js';
import { encodeLockName, type LockIdentity } from './lock-name.js';

/** Argo's `Synchronization` block as written in a workflow, including the legacy singular fields. */
export interface Synchronization {
  readonly semaphores?: readonly SemaphoreRef[];
  readonly mutexes?: readonly MutexRef[];
  /** Legacy (before v3.6): converted to `semaphores` with a warning. */
  readonly semaphore?: SemaphoreRef;
  /** Legacy (before v3.6): converted to `mutexes` with a warning. */
  readonly mutex?: MutexRef;
}

export interface SemaphoreRef {
  readonly configMapKeyRef?: { readonly name: string; readonly key: string };
  readonly database?: { readonly key: string };
  readonly namespace?: string;
}

export interface MutexRef {
  readonly name: string;
  readonly namespace?: string;
  readonly database?: boolean;
}

/** One lock of a block, resolved: its identity and lock name. */
export interface SyncItem {
  readonly identity: LockIdentity;
  readonly lockName: string;
}

export interface ParsedSynchronization {
  readonly items: readonly SyncItem[];
  /** One per legacy field found, e.g. for the workflow's events and the controller log. */
  readonly warnings: readonly string[];
}

/**
 * Resolves a block into its locks, semaphores first then mutexes in spec order (Argo's order), with Argo's
 * errors prefixed `requested configuration is invalid: `.
 */
export function parseSynchronization(synchronization: Synchronization, workflowNamespace: string): ParsedSynchronization {
  const warnings: string[] = [];
  const semaphores = [...(synchronization.semaphores ?? [])];
  const mutexes = [...(synchronization.mutexes ?? [])];
  if (synchronization.semaphore) {
    semaphores.push(synchronization.semaphore);
    warnings.push('synchronization.semaphore is deprecated: use synchronization.semaphores (argo convert rewrites it)');
  }
  if (synchronization.mutex) {
    mutexes.push(synchronization.mutex);
    warnings.push('synchronization.mutex is deprecated: use synchronization.mutexes (argo convert rewrites it)');
  }
  const seen = new Set<string>();
  const items: SyncItem[] = [];
  for (const item of [...semaphores.map((ref) => ({ ref, semaphore: true })), ...mutexes.map((ref) => ({ ref, semaphore: false }))]) {
    // Duplicates are literal repeats of an item, as Argo compares them.
    const literal = JSON.stringify(item);
    if (seen.has(literal)) invalid('duplicate synchronization item found');
    seen.add(literal);
    const identity = item.semaphore ? semaphoreIdentity(item.ref as SemaphoreRef, workflowNamespace) : mutexIdentity(item.ref as MutexRef, workflowNamespace);
    items.push({ identity, lockName: encodeLockName(identity) });
  }
  return { items, warnings };
}

function semaphoreIdentity(ref: SemaphoreRef, workflowNamespace: string): LockIdentity {
  const namespace = ref.namespace || workflowNamespace;
  if (ref.configMapKeyRef && ref.database) invalid('invalid semaphore with both ConfigMapKeyRef and Database');
  if (ref.configMapKeyRef) {
    const { name, key } = ref.configMapKeyRef;
    if (!name || !key) invalid('a ConfigMap semaphore needs configMapKeyRef.name and configMapKeyRef.key');
    if (key.includes('/')) invalid(`invalid ConfigMap key "${key}": keys cannot contain "/"`);
    return { kind: 'ConfigMap', namespace, configMapName: name, key };
  }
  if (ref.database) {
    if (!ref.database.key) invalid('a database semaphore needs database.key');
    return { kind: 'Database', namespace, name: ref.database.key, mutex: false };
  }
  return invalid('cannot get LockName for a Semaphore without a ConfigMapRef or Database');
}

function mutexIdentity(ref: MutexRef, workflowNamespace: string): LockIdentity {
  if (!ref.name) invalid('a mutex needs a name');
  const namespace = ref.namespace || workflowNamespace;
  return ref.database ? { kind: 'Database', namespace, name: ref.name, mutex: true } : { kind: 'Mutex', namespace, name: ref.name };
}

function invalid(reason: string): never {
  throw new InvalidArgumentError(`requested configuration is invalid: ${reason}`);
}
