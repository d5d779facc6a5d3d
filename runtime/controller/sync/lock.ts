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
      /** A slot is free but another waiter is in front: that waiter is woken (Argo's nextWorkflow). */
      readonly slotFree?: boolean;
      /**
       * The lock's holder keys as the lock last saw them (sorted), for the workflow status (Argo's LockWaiting);
       * undefined when the attempt could not look. Not re-read for an attempt that cannot succeed.
       */
      readonly holders?: readonly string[];
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

/** What a scope decided for its locks: each lock's check, in the order given, and the tokens of its grants. */
export interface ScopedDecision {
  readonly checks: readonly LockCheck[];
  /**
   * Fencing tokens of the grants by position (empty unless every check passed and grants were allowed), and of
   * holds the key turned out to have already (a grant whose answer was lost with a connection).
   */
  readonly tokens: ReadonlyMap<number, number>;
}

/**
 * Where the all-or-nothing acquisitions of a set of locks are decided together, when that is more than this
 * process: the sync database decides its locks in one commit. In-memory locks have no scope: the sync
 * manager's per-lock mutex makes their check-then-grant atomic.
 */
export interface AcquisitionScope {
  /**
   * Queues `waiter` on every lock (locks of this scope only), checks each with the limit read before, and, when
   * `mayGrant` and every check passes, grants them all in one commit. `wholeBlock`: these are all the locks
   * the waiter's block needs. Throws AcquisitionDeferred when it cannot decide now (the attempt then waits,
   * still queued).
   */
  acquire(locks: readonly Lock[], waiter: Waiter, limits: readonly (number | string)[], mayGrant: boolean, wholeBlock: boolean): Promise<ScopedDecision>;
  /** Why this scope admits nobody at the moment (e.g. the controller is re-verifying its holds), if so. */
  refusal(): string | undefined;
}

/** What every lock offers, whoever decides its acquisitions. */
interface LockBase {
  /** Lock name of SPEC §2, e.g. `team-a/ConfigMap/limits/gpu`. */
  readonly name: string;
  readonly kind: LockKind;
  readonly storage: LockStorage;
  /** How the lock is known where it is stored: the lock name in memory, the row name (`sem/…`, `mtx/…`) in the database. */
  readonly key: string;
  /** Queues the waiter; idempotent; a current holder is not queued. */
  enqueue(waiter: Waiter): Promise<void>;
  /**
   * The current limit (through the cache), or the problem that keeps the lock from having one. Read before an
   * acquisition's transaction, as Argo reads limits outside it, which keeps the transaction short. For the
   * attempt of `holderKey` (a key the lock may already know it granted, needing no limit).
   */
  readLimit(holderKey: string): Promise<number | string>;
  /** Releases the key's hold and removes it from the queue; false when it held nothing. Never throws for a non-holder. */
  release(holderKey: string): Promise<boolean>;
  /** At controller start: re-registers a hold recorded in workflow status (even above the limit); throws when it cannot. */
  reacquire(holderKey: string): Promise<void>;
  /** After this controller was declared inactive: forgets and returns the holds it had that are gone now. */
  lostHolds(): Promise<string[]>;
  /** Holder keys of the waiters that the free slots would admit now, in queue order (for waking them). */
  admissible(): Promise<string[]>;
  /** Holder keys this controller holds or queues on the lock. */
  keys(): string[];
  /** The same, for one workflow's holds and queue entries, at workflow and template level. */
  keysOf(workflowKey: string): string[];
  snapshot(): Promise<LockSnapshot>;
}

/** A lock decided in this process alone, under the sync manager's per-lock mutex. */
export interface InProcessLock extends LockBase {
  readonly scope: undefined;
  /** Whether `holderKey` could take the lock now, given `limit` from `readLimit`, honouring queue order (SPEC §5 rules 2–3). */
  check(holderKey: string, limit: number | string): Promise<LockCheck>;
  /** Grants the lock to `holderKey` (which must have checked `acquirable`) and removes it from the queue. */
  grant(holderKey: string): Promise<Holder>;
}

/** A lock whose acquisitions its scope decides (the sync database). */
export interface ScopedLock extends LockBase {
  readonly scope: AcquisitionScope;
}

/** One semaphore or mutex. */
export type Lock = InProcessLock | ScopedLock;

/**
 * The acquisition could not be decided now: another controller keeps a lock's `sync_lock` row (Argo's
 * "failed to lock()"), or this controller stopped while the transaction was losing to contention. The
 * attempt ends as waiting with this message; the next change notice or poll tries again.
 */
export class AcquisitionDeferred extends Error {}
