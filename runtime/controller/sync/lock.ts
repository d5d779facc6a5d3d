/** What kind of lock: a semaphore has a limit from a LimitSource; a mutex is a lock whose limit is always 1. */
export type LockKind = 'semaphore' | 'mutex';

/** Where holders and waiters live: `configmap` (in-memory semaphore, limit in a ConfigMap), `memory` (in-memory mutex), `database` (sync tables). */
export type LockStorage = 'configmap' | 'memory' | 'database';

/** An entry in a lock's queue. */
export interface Waiter {
  /** `<ns>/<workflow>` or `<ns>/<workflow>/<nodeID>` (SPEC §2). */
  readonly holderKey: string;
  /** `spec.priority` of the workflow; higher goes first. */
  readonly priority: number;
  /** Workflow creation time in ms since the epoch; older goes first among equal priorities. */
  readonly creationTime: number;
  /** Controller that queued it (database locks only). */
  readonly controller?: string;
}

/** A granted hold. */
export interface Holder {
  readonly holderKey: string;
  /** Fencing token: strictly increasing per lock across all grants, so a stale holder can be told apart. */
  readonly token: number;
  /** When the grant happened, ms since the epoch. */
  readonly since: number;
  /** Controller that holds it (database locks only). */
  readonly controller?: string;
}

/** Result of asking whether a holder key could take the lock now. */
export type LockCheck =
  | { readonly status: 'held' }
  | { readonly status: 'acquirable' }
  | {
      readonly status: 'waiting';
      /** Argo's waiting text, e.g. `Waiting for <lock name> lock. Lock status: 0/2`. */
      readonly message: string;
      /** Set when the limit itself is missing (SPEC §5 "missing limit waits"): says what is missing and how to create it. */
      readonly missingLimit?: string;
    };

/** Everything the API, UI and metrics show about one lock ("x of N"). */
export interface LockSnapshot {
  readonly name: string;
  readonly kind: LockKind;
  readonly storage: LockStorage;
  /** Current limit; undefined when the limit is missing. */
  readonly limit: number | undefined;
  readonly holders: readonly Holder[];
  /** In queue order: priority descending, then creation time ascending. */
  readonly waiters: readonly Waiter[];
}

/**
 * One semaphore or mutex. `Session` is the scope in which an all-or-nothing acquisition checks and grants:
 * `void` for in-memory locks (the sync manager's mutex makes their check-then-grant atomic), the SERIALIZABLE
 * transaction for database locks (so the grants of a whole lock set commit together or not at all).
 */
export interface Lock<Session = void> {
  /** Lock name of SPEC §2, e.g. `team-a/ConfigMap/limits/gpu`. */
  readonly name: string;
  readonly kind: LockKind;
  readonly storage: LockStorage;
  /**
   * Queues the waiter; idempotent; re-queuing an existing key updates its priority; a current holder is not
   * queued. Given the acquisition's session, the queue entry is written in it.
   */
  enqueue(waiter: Waiter, session?: Session): Promise<void>;
  /** Removes the key from the queue (no-op when absent). */
  dequeue(holderKey: string): Promise<void>;
  /**
   * The current limit (through the cache), or the problem that keeps the lock from having one. Read before an
   * acquisition's transaction, as Argo reads limits outside it, which keeps the transaction short.
   */
  readLimit(): Promise<number | string>;
  /** Whether `holderKey` could take the lock now, given `limit` from `readLimit`, honouring queue order (SPEC §5 rules 2–3). */
  check(holderKey: string, limit: number | string, session: Session): Promise<LockCheck>;
  /** Grants the lock to `holderKey` (which must have checked `acquirable` in the same session) and removes it from the queue. */
  grant(holderKey: string, session: Session): Promise<Holder>;
  /** Releases a hold; returns false when the key held nothing. Never throws for a non-holder. */
  release(holderKey: string): Promise<boolean>;
  /** At controller start: re-registers a hold recorded in workflow status (even above the limit); throws when it cannot. */
  reacquire(holderKey: string): Promise<void>;
  /** Holder keys of the waiters that the free slots would admit now, in queue order (for waking them). */
  admissible(): Promise<string[]>;
  snapshot(): Promise<LockSnapshot>;
}
