import { systemClock, type Clock } from '../../clock.js';
import { InvalidArgumentError } from '../../errors.js';
import type { ConfigMapStore } from '../../store/configmap-store.js';
import type { DatabaseSync } from './database-sync.js';
import { KeyedMutex } from './keyed-mutex.js';
import { holderKey as toHolderKey, workflowKeyOf } from './holder-key.js';
import { AcquisitionDeferred, type AcquisitionScope, type Lock, type LockCheck, type LockSnapshot, type ScopedDecision, type Waiter } from './lock.js';
import { decodeDatabaseLockKey, type LockIdentity } from './lock-name.js';
import { LockRegistry } from './lock-registry.js';
import type { LockMetrics } from './lock-metrics.js';
import { SyncRecovery, type LostHold, type RecordedHold, type StaleHold } from './sync-recovery.js';
import { parseSynchronization, type Synchronization } from './sync-items.js';
import { WatchedConfigMaps } from './watched-configmaps.js';

export interface SyncManagerOptions {
  readonly controllerName: string;
  readonly configMaps: ConfigMapStore;
  /** The shared sync database, already started; undefined when none is configured. */
  readonly database?: DatabaseSync;
  readonly clock?: Clock;
  readonly semaphoreLimitCacheSeconds?: number;
  /** SPEC §5: `wait` (default) keeps a workflow waiting on a missing limit; `error` fails it as Argo does. */
  readonly missingLimit?: 'wait' | 'error';
  /** Argo's `nextWorkflow`: the workflow `<ns>/<name>` may be able to acquire now; reconcile it. */
  readonly onWake: (workflowKey: string) => void;
  /** A hold this controller had was reclaimed while it was declared inactive: fail that workflow. */
  readonly onHoldLost?: (lost: LostHold) => void;
  /** Holders or waiters of the lock changed (for the UI's live view). */
  readonly onLockChange?: (lockName: string) => void;
  readonly metrics?: LockMetrics;
}

/** One acquisition attempt for a workflow (no `nodeId`) or one of its nodes. */
export interface AcquireRequest {
  readonly namespace: string;
  readonly workflowName: string;
  readonly nodeId?: string;
  readonly priority: number;
  /** Workflow creation time, ms since the epoch. */
  readonly creationTime: number;
  readonly synchronization: Synchronization;
}

export type AcquireResult =
  | { readonly acquired: true; readonly holds: readonly { lockName: string; token?: number }[]; readonly warnings: readonly string[] }
  | {
      readonly acquired: false;
      /** The waiting message of the first lock that is not available (SPEC §5 rule 5). */
      readonly message: string;
      readonly failedLockName: string;
      /** That lock's holder keys as it last saw them; undefined when it could not look (the status keeps what it recorded). */
      readonly holders: readonly string[] | undefined;
      readonly warnings: readonly string[];
    };

export type { LostHold, RecordedHold, StaleHold };

/**
 * Argo's sync manager with argosync's improvements (SPEC §5): all-or-nothing acquisition over a workflow's
 * locks, queue order by priority then creation time, immediate hand-off on release, live limit changes and
 * the release paths. It speaks to every lock through the Lock interface; restart re-establishment, the
 * existence sweep and self-fencing live in SyncRecovery.
 */
export class SyncManager {
  readonly #options: SyncManagerOptions;
  readonly #registry: LockRegistry;
  readonly #configMaps: WatchedConfigMaps;
  readonly #recovery: SyncRecovery;
  /** Makes check-then-grant atomic for locks decided in this process; locks with a scope are decided there. */
  readonly #mutex = new KeyedMutex();
  readonly #stops: (() => void)[] = [];

  constructor(options: SyncManagerOptions) {
    this.#options = options;
    this.#configMaps = new WatchedConfigMaps(options.configMaps);
    this.#registry = new LockRegistry({
      clock: options.clock ?? systemClock,
      configMaps: this.#configMaps,
      database: options.database,
      semaphoreLimitCacheSeconds: options.semaphoreLimitCacheSeconds ?? 0,
    });
    this.#recovery = new SyncRecovery({
      lock: (identity) => this.#lock(identity),
      locks: () => this.#registry.all(),
      release: (lock, keys) => this.#releaseKeys(lock, keys),
      ...(options.onHoldLost ? { onHoldLost: options.onHoldLost } : {}),
    });
  }

  /**
   * Starts following limit changes (ConfigMap watch, database notifications) and self-fencing, and takes over
   * the rows this controller's previous run left in the sync database, so releases and sweeps find them.
   */
  async start(): Promise<void> {
    await this.#configMaps.start((configMap) => {
      for (const lock of this.#registry.configMapChanged(configMap.namespace, configMap.name)) this.#wake(lock);
    });
    this.#stops.push(() => this.#configMaps.stop());
    const database = this.#options.database;
    if (database) {
      for (const lockKey of database.leftoverLocks()) this.#registry.get(decodeDatabaseLockKey(lockKey));
      this.#stops.push(
        database.onChange((lockKey) => {
          const lock = this.#registry.find(lockKey);
          if (lock) this.#wake(lock);
        }),
      );
      this.#stops.push(database.onHandOff((holderKey) => this.#options.onWake(workflowKeyOf(holderKey))));
      database.onDeclaredInactive(() => this.#recovery.reportLostHolds());
    }
  }

  stop(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }

  /**
   * Acquires every lock of the block for the workflow (or node), or none (SPEC §5 rule 1); meanwhile the
   * holder stays queued on all of them. Throws an ApiError when the block is invalid or, with
   * `missingLimit: error`, a limit is missing; any other error is transient and the caller retries.
   */
  async tryAcquire(request: AcquireRequest): Promise<AcquireResult> {
    const { items, warnings } = parseSynchronization(request.synchronization, request.namespace);
    const holderKey = toHolderKey(request.namespace, request.workflowName, request.nodeId);
    const locks = items.map((item) => this.#lock(item.identity));
    if (locks.length === 0) return { acquired: true, holds: [], warnings };
    const inProcess = locks.filter((lock) => lock.scope === undefined);
    return this.#mutex.runExclusive(
      inProcess.map((lock) => lock.key),
      async () => {
        const waiter = { holderKey, priority: request.priority, creationTime: request.creationTime };
        const outcome = await this.#decide(locks, waiter);
        for (const lock of locks) this.#options.onLockChange?.(lock.name);
        if ('message' in outcome) {
          for (const [index, check] of outcome.checks.entries()) if (check?.status === 'waiting' && check.slotFree) this.#wake(locks[index]!);
          return { acquired: false, message: outcome.message, failedLockName: outcome.failedLockName, holders: outcome.holders, warnings };
        }
        const holds: { lockName: string; token?: number }[] = [];
        for (const [index, lock] of locks.entries()) {
          const check = outcome.checks[index]!;
          const granted = outcome.granted.get(index);
          // A hold found already there (its grant's answer was lost) comes with its token from the scope.
          const token = check.status === 'acquirable' ? (granted ?? (lock.scope === undefined ? (await lock.grant(holderKey)).token : undefined)) : granted;
          holds.push({ lockName: lock.name, ...(token === undefined ? {} : { token }) });
          if (check.status === 'acquirable') this.#options.metrics?.taken(lock);
        }
        return { acquired: true, holds, warnings };
      },
    );
  }

  /** Releases the workflow's (or node's) hold on every lock of the block and leaves their queues. */
  async release(request: Omit<AcquireRequest, 'priority' | 'creationTime'>): Promise<void> {
    const { items } = parseSynchronization(request.synchronization, request.namespace);
    const holderKey = toHolderKey(request.namespace, request.workflowName, request.nodeId);
    for (const item of items) await this.#releaseKeys(this.#lock(item.identity), [holderKey]);
  }

  /** Everything of a workflow, at workflow and template level: on completion, termination and deletion. */
  async releaseAll(namespace: string, workflowName: string): Promise<void> {
    const workflowKey = toHolderKey(namespace, workflowName);
    for (const lock of this.#registry.all()) {
      const keys = lock.keysOf(workflowKey);
      if (keys.length > 0) await this.#releaseKeys(lock, keys);
    }
  }

  /** Argo's `CheckWorkflowExistence`: drops holders and waiters whose workflow no longer exists. */
  sweep(exists: (workflowKey: string) => boolean): Promise<void> {
    return this.#recovery.sweep(exists);
  }

  /**
   * At controller start, before anyone is admitted: re-registers the holds recorded in running workflows.
   * Returns the workflows whose holds could not be re-established; throws for a hold that can never be.
   */
  initialize(holds: readonly RecordedHold[]): Promise<StaleHold[]> {
    return this.#recovery.initialize(holds);
  }

  /** Holders and waiters of every lock this controller knows, for the API, UI and metrics. */
  async snapshots(): Promise<LockSnapshot[]> {
    return Promise.all(this.#registry.all().map((lock) => lock.snapshot()));
  }

  /** Holders and waiters of one lock. */
  snapshot(identity: LockIdentity): Promise<LockSnapshot> {
    return this.#lock(identity).snapshot();
  }

  #lock(identity: LockIdentity): Lock {
    try {
      return this.#registry.get(identity);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  }

  /**
   * Queues the waiter on every lock and checks them all: in-process locks first (under their mutex), then the
   * locks of the scope (the sync database), which grants its locks in one commit when everything else was
   * available; in-process grants follow in tryAcquire, still under the mutex.
   */
  async #decide(locks: readonly Lock[], waiter: Waiter): Promise<Outcome> {
    const limits: (number | string)[] = [];
    for (const lock of locks) limits.push(await lock.readLimit(waiter.holderKey));
    const checks: (LockCheck | undefined)[] = [];
    for (const [index, lock] of locks.entries()) {
      if (lock.scope !== undefined) continue;
      await lock.enqueue(waiter);
      checks[index] = await lock.check(waiter.holderKey, limits[index]!);
    }
    const scoped = locks.flatMap((lock, index) => (lock.scope === undefined ? [] : [{ lock, index }]));
    const scope = scoped[0]?.lock.scope;
    const granted = new Map<number, number>();
    if (scope) {
      const decision = await this.#decideInScope(
        scope,
        scoped.map(({ lock }) => lock),
        waiter,
        scoped.map(({ index }) => limits[index]!),
        checks.every((check) => check === undefined || check.status !== 'waiting'),
        scoped.length === locks.length,
      );
      for (const [position, { index }] of scoped.entries()) {
        checks[index] = decision.checks[position];
        const token = decision.tokens.get(position);
        if (token !== undefined) granted.set(index, token);
      }
    }
    const waitingIndex = checks.findIndex((check) => check === undefined || check.status === 'waiting');
    const waiting = checks[waitingIndex];
    if (waitingIndex < 0) return { checks: checks as LockCheck[], granted };
    const lock = locks[waitingIndex]!;
    if (waiting?.status === 'waiting' && waiting.missingLimit !== undefined) {
      this.#options.metrics?.missingLimit(lock);
      if (this.#options.missingLimit === 'error') throw new InvalidArgumentError(`failed to initialize semaphore ${lock.name} with limit: ${waiting.missingLimit}`);
    }
    return { checks, message: waiting?.status === 'waiting' ? waiting.message : '', failedLockName: lock.name, holders: waiting?.status === 'waiting' ? waiting.holders : undefined };
  }

  /** The scope's decision, or waiting (still queued, so other controllers see the waiter) when it cannot decide now. */
  async #decideInScope(scope: AcquisitionScope, locks: readonly Lock[], waiter: Waiter, limits: readonly (number | string)[], mayGrant: boolean, wholeBlock: boolean): Promise<ScopedDecision> {
    // Undecided, every lock of the scope waits with the reason.
    const waitOutside = async (message: string): Promise<ScopedDecision> => {
      for (const lock of locks) await lock.enqueue(waiter);
      return { checks: locks.map(() => ({ status: 'waiting', message })), tokens: new Map() };
    };
    const refusal = scope.refusal();
    if (refusal !== undefined) return waitOutside(refusal);
    try {
      return await scope.acquire(locks, waiter, limits, mayGrant, wholeBlock);
    } catch (error) {
      if (!(error instanceof AcquisitionDeferred)) throw error;
      return waitOutside(error.message);
    }
  }

  /** Releases and dequeues `keys`; locks decided in this process wake their next waiters here (database releases announce themselves). */
  async #releaseKeys(lock: Lock, keys: readonly string[]): Promise<void> {
    const release = async () => {
      for (const key of keys) await lock.release(key);
    };
    // A release never waits behind acquisition attempts that go to the database.
    if (lock.scope === undefined) await this.#mutex.runExclusive([lock.key], release);
    else await release();
    this.#options.onLockChange?.(lock.name);
    if (lock.scope === undefined) this.#wake(lock);
  }

  /** Wakes the waiters the lock's free slots would admit now (Argo's notifyWaiters). */
  #wake(lock: Lock): void {
    void lock
      .admissible()
      .then((keys) => {
        for (const workflowKey of new Set(keys.map(workflowKeyOf))) this.#options.onWake(workflowKey);
      })
      .catch(() => undefined); // the next poll or release looks again
  }
}

/** What the checks decided: granted (scoped grants' tokens by item index), or waiting with the first blocker. */
type Outcome =
  | { readonly checks: readonly LockCheck[]; readonly granted: ReadonlyMap<number, number> }
  | { readonly checks: readonly (LockCheck | undefined)[]; readonly message: string; readonly failedLockName: string; readonly holders: readonly string[] | undefined };
