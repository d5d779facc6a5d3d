import { systemClock, type Clock } from '../../clock.js';
import { InvalidArgumentError } from '../../errors.js';
import type { ConfigMapStore } from '../../store/configmap-store.js';
import { LockGuardBusy, type DatabaseSync, type SyncTransaction } from './database-sync.js';
import { KeyedMutex } from './keyed-mutex.js';
import { belongsToWorkflow, holderKey as toHolderKey, workflowKeyOf } from './holder-key.js';
import type { LockCheck, LockSnapshot, Waiter } from './lock.js';
import { decodeLockName, type LockIdentity } from './lock-name.js';
import { LockRegistry, type RegisteredLock } from './lock-registry.js';
import type { LockMetrics } from './lock-metrics.js';
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
      readonly warnings: readonly string[];
    };

/** A hold recorded in a running workflow's status, re-established at startup (SPEC §5 rule 7). */
export interface RecordedHold {
  readonly namespace: string;
  readonly workflowName: string;
  readonly lockName: string;
  readonly type: 'semaphore' | 'mutex';
  readonly holderKey: string;
}

export interface StaleHold {
  readonly namespace: string;
  readonly workflowName: string;
  /** `could not re-establish <type> "<lock>" at controller startup: <err>` */
  readonly reason: string;
}

export interface LostHold {
  readonly workflowKey: string;
  readonly holderKey: string;
  readonly lockName: string;
}

/**
 * Argo's sync manager with argosync's improvements (SPEC §5): all-or-nothing acquisition over a workflow's
 * locks, queue order by priority then creation time, immediate hand-off on release, live limit changes,
 * release paths, the existence sweep, restart re-establishment and self-fencing.
 */
export class SyncManager {
  readonly #options: SyncManagerOptions;
  readonly #registry: LockRegistry;
  readonly #configMaps: WatchedConfigMaps;
  readonly #mutex = new KeyedMutex();
  /** Holder keys of this controller waiting on each database lock, so polling looks only where someone waits. */
  readonly #databaseWaiters = new Map<string, Set<string>>();
  /** Database holds granted or re-established by this controller, to notice the ones reclaimed from it. */
  readonly #databaseHolds = new Map<string, Set<string>>();
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
  }

  /**
   * Starts following limit changes (ConfigMap watch, database notifications) and self-fencing, and loads
   * this controller's rows of the sync database so releases know them without asking it.
   */
  async start(): Promise<void> {
    await this.#configMaps.start((configMap) => this.#configMapChanged(configMap.namespace, configMap.name));
    this.#stops.push(() => this.#configMaps.stop());
    const database = this.#options.database;
    if (database) {
      const rows = await database.db.selectFrom(database.tables.state).select(['name', 'workflowkey', 'held']).where('controller', '=', database.controllerName).execute();
      for (const row of rows) addTo(row.held ? this.#databaseHolds : this.#databaseWaiters, row.name, row.workflowkey);
      this.#stops.push(database.onChange((databaseKey) => this.#databaseChanged(databaseKey)));
      database.setWaiterProbe(() => this.#databaseWaiters.size > 0);
      database.onDeclaredInactive(() => this.#verifyDatabaseHolds());
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
    const entries = items.map((item) => this.#entry(item.identity));
    if (entries.length === 0) return { acquired: true, holds: [], warnings };
    return this.#mutex.runExclusive(
      entries.map((entry) => entry.lock.name),
      async () => {
        const waiter = { holderKey, priority: request.priority, creationTime: request.creationTime };
        // Database queue rows this controller already wrote need no second look inside the transaction.
        const unqueued = entries.filter((entry) => entry.storage === 'database' && this.#knownDatabaseRow(entry.lock.databaseKey, holderKey) === undefined);
        for (const entry of entries) {
          if (entry.storage === 'database') addTo(this.#databaseWaiters, entry.lock.databaseKey, holderKey);
          else await entry.lock.enqueue(waiter);
        }
        let outcome: Outcome;
        try {
          outcome = await this.#checkAndGrant(entries, waiter, unqueued);
        } catch (error) {
          // The transaction that would have written those queue rows rolled back.
          for (const entry of unqueued) if (entry.storage === 'database') removeFrom(this.#databaseWaiters, entry.lock.databaseKey, holderKey);
          throw error;
        }
        for (const entry of entries) this.#options.onLockChange?.(entry.lock.name);
        if ('message' in outcome) {
          for (const [index, check] of outcome.checks.entries()) if (check?.status === 'waiting') this.#wake(entries[index]!);
          return { acquired: false, message: outcome.message, failedLockName: outcome.failedLockName, warnings };
        }
        const holds: { lockName: string; token?: number }[] = [];
        for (const [index, entry] of entries.entries()) {
          const check = outcome.checks[index]!;
          if (entry.storage === 'database') {
            removeFrom(this.#databaseWaiters, entry.lock.databaseKey, holderKey);
            const granted = outcome.granted.get(index);
            if (granted !== undefined) addTo(this.#databaseHolds, entry.lock.databaseKey, holderKey);
            holds.push({ lockName: entry.lock.name, ...(granted === undefined ? {} : { token: granted }) });
          } else if (check.status === 'acquirable') {
            holds.push({ lockName: entry.lock.name, token: (await entry.lock.grant(holderKey)).token });
          } else {
            holds.push({ lockName: entry.lock.name });
          }
          if (check.status === 'acquirable') this.#options.metrics?.taken(entry.lock);
        }
        return { acquired: true, holds, warnings };
      },
    );
  }

  /** Releases the workflow's (or node's) hold on every lock of the block and leaves their queues. */
  async release(request: Omit<AcquireRequest, 'priority' | 'creationTime'>): Promise<void> {
    const { items } = parseSynchronization(request.synchronization, request.namespace);
    const holderKey = toHolderKey(request.namespace, request.workflowName, request.nodeId);
    for (const item of items) await this.#releaseKeys(this.#entry(item.identity), [holderKey]);
  }

  /** Everything of a workflow, at workflow and template level: on completion, termination and deletion. */
  async releaseAll(namespace: string, workflowName: string): Promise<void> {
    const workflowKey = toHolderKey(namespace, workflowName);
    await this.#releaseWhere((key) => belongsToWorkflow(key, workflowKey), workflowKey);
  }

  /** Argo's `CheckWorkflowExistence`: drops holders and waiters whose workflow no longer exists. */
  async sweep(exists: (workflowKey: string) => boolean): Promise<void> {
    await this.#releaseWhere((key) => !exists(workflowKeyOf(key)));
  }

  /**
   * At controller start, before anyone is admitted: re-registers the holds recorded in running workflows
   * (in memory even above the limit; in the database by verifying the row). Returns the workflows whose
   * holds could not be re-established; throws for a hold that can never be (bad lock name, no database).
   */
  async initialize(holds: readonly RecordedHold[]): Promise<StaleHold[]> {
    const stale: StaleHold[] = [];
    for (const hold of holds) {
      let entry: RegisteredLock;
      try {
        entry = this.#entry(this.#identityOf(hold));
      } catch (error) {
        throw new Error(`cannot re-establish ${hold.type} "${hold.lockName}" held by workflow ${hold.namespace}/${hold.workflowName} at startup: ${(error as Error).message}`);
      }
      try {
        await entry.lock.reacquire(hold.holderKey);
        if (entry.storage === 'database') addTo(this.#databaseHolds, entry.lock.databaseKey, hold.holderKey);
      } catch (error) {
        stale.push({
          namespace: hold.namespace,
          workflowName: hold.workflowName,
          reason: `could not re-establish ${hold.type} "${hold.lockName}" at controller startup: ${(error as Error).message}`,
        });
      }
    }
    return stale;
  }

  /** Holders and waiters of every lock this controller knows, for the API, UI and metrics. */
  async snapshots(): Promise<LockSnapshot[]> {
    return Promise.all(this.#registry.all().map((entry) => entry.lock.snapshot()));
  }

  /** Holders and waiters of one lock. */
  snapshot(identity: LockIdentity): Promise<LockSnapshot> {
    return this.#entry(identity).lock.snapshot();
  }

  #entry(identity: LockIdentity): RegisteredLock {
    try {
      return this.#registry.entry(identity);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  }

  #identityOf(hold: RecordedHold): LockIdentity {
    const identity = decodeLockName(hold.lockName);
    return identity.kind === 'Database' ? { ...identity, mutex: hold.type === 'mutex' } : identity;
  }

  /**
   * Checks every lock, and when all are available grants the database ones in the same SERIALIZABLE
   * transaction, which also writes their queue rows; in-memory grants follow once it has committed, still
   * under the per-lock mutex.
   */
  async #checkAndGrant(entries: readonly RegisteredLock[], waiter: Waiter, unqueued: readonly RegisteredLock[]): Promise<Outcome> {
    const { holderKey } = waiter;
    const databaseEntries = entries.filter((entry) => entry.storage === 'database');
    const limits: (number | string)[] = [];
    for (const entry of entries) limits.push(await entry.lock.readLimit());
    const decide = async (tx: SyncTransaction | undefined): Promise<Outcome> => {
      for (const entry of unqueued) await entry.lock.enqueue(waiter, tx);
      const checks: LockCheck[] = [];
      for (const [index, entry] of entries.entries()) checks.push(await entry.lock.check(holderKey, limits[index]!, tx as SyncTransaction));
      const waitingIndex = checks.findIndex((check) => check.status === 'waiting');
      const waiting = checks[waitingIndex];
      if (waiting?.status === 'waiting') {
        const lockName = entries[waitingIndex]!.lock.name;
        if (waiting.missingLimit !== undefined) {
          this.#options.metrics?.missingLimit(entries[waitingIndex]!.lock);
          if (this.#options.missingLimit === 'error') throw new InvalidArgumentError(`failed to initialize semaphore ${lockName} with limit: ${waiting.missingLimit}`);
        }
        // Only queue rows were written: they need not survive a database crash.
        if (tx) await this.#options.database!.relaxDurability(tx);
        return { checks, message: waiting.message, failedLockName: lockName };
      }
      const granted = new Map<number, number>();
      for (const [index, entry] of entries.entries()) {
        if (entry.storage === 'database' && checks[index]!.status === 'acquirable') granted.set(index, (await entry.lock.grant(holderKey, tx!)).token);
      }
      return { checks, granted };
    };
    const database = this.#options.database;
    if (!database || databaseEntries.length === 0) return decide(undefined);
    // Without an acquisition transaction the queue rows are still written, so other controllers see the waiter.
    const waitOutside = async (message: string, failedLockName: string): Promise<Outcome> => {
      for (const entry of unqueued) await entry.lock.enqueue(waiter);
      return { checks: [], message, failedLockName };
    };
    if (!database.admitting) return waitOutside(`controller ${database.controllerName} was declared inactive and is re-verifying its holds`, databaseEntries[0]!.lock.name);
    try {
      return await database.acquisition(
        databaseEntries.map((entry) => entry.lock.databaseKey),
        decide,
      );
    } catch (error) {
      if (!(error instanceof LockGuardBusy)) throw error;
      const busy = databaseEntries.find((entry) => entry.lock.databaseKey === error.lockKey)!;
      return waitOutside(error.message, busy.lock.name);
    }
  }

  async #releaseKeys(entry: RegisteredLock, keys: readonly string[]): Promise<void> {
    await this.#mutex.runExclusive([entry.lock.name], async () => {
      for (const key of keys) {
        // A database row is either a hold or a queue entry: touch only the one this controller knows of.
        const known = entry.storage === 'database' ? this.#knownDatabaseRow(entry.lock.databaseKey, key) : undefined;
        if (known !== 'queued') await entry.lock.release(key);
        if (known !== 'held') await entry.lock.dequeue(key);
        if (entry.storage === 'database') {
          removeFrom(this.#databaseWaiters, entry.lock.databaseKey, key);
          removeFrom(this.#databaseHolds, entry.lock.databaseKey, key);
        }
      }
    });
    this.#options.onLockChange?.(entry.lock.name);
    // Database releases announce themselves; in-memory ones wake the next waiters here.
    if (entry.storage === 'memory') this.#wake(entry);
  }

  #knownDatabaseRow(databaseKey: string, holderKey: string): 'held' | 'queued' | undefined {
    if (this.#databaseHolds.get(databaseKey)?.has(holderKey)) return 'held';
    if (this.#databaseWaiters.get(databaseKey)?.has(holderKey)) return 'queued';
    return undefined;
  }

  /**
   * Releases and dequeues every holder key that matches, in memory and in this controller's database rows;
   * with `workflowKey`, in-memory locks look up that workflow's keys instead of scanning their queues.
   */
  async #releaseWhere(matches: (holderKey: string) => boolean, workflowKey?: string): Promise<void> {
    for (const entry of this.#registry.all()) {
      if (entry.storage !== 'memory') continue;
      const keys = workflowKey === undefined ? entry.lock.keys().filter(matches) : entry.lock.keysOf(workflowKey);
      if (keys.length > 0) await this.#releaseKeys(entry, keys);
    }
    for (const databaseKey of new Set([...this.#databaseHolds.keys(), ...this.#databaseWaiters.keys()])) {
      const keys = [...(this.#databaseHolds.get(databaseKey) ?? []), ...(this.#databaseWaiters.get(databaseKey) ?? [])].filter(matches);
      if (keys.length > 0) await this.#releaseKeys(this.#databaseEntry(databaseKey), keys);
    }
  }

  /** The registered lock of a `sem/<ns>/<key>` or `mtx/<ns>/<name>` row, registering it when needed. */
  #databaseEntry(databaseKey: string): RegisteredLock {
    const [kind, namespace, ...rest] = databaseKey.split('/');
    return this.#entry({ kind: 'Database', namespace: namespace ?? '', name: rest.join('/'), mutex: kind === 'mtx' });
  }

  /** Wakes the waiters the lock's free slots would admit now (Argo's notifyWaiters). */
  #wake(entry: RegisteredLock): void {
    void entry.lock
      .admissible()
      .then((keys) => {
        for (const workflowKey of new Set(keys.map(workflowKeyOf))) this.#options.onWake(workflowKey);
      })
      .catch(() => undefined); // the next poll or release looks again
  }

  #configMapChanged(namespace: string, name: string): void {
    for (const entry of this.#registry.all()) {
      const identity = entry.identity;
      if (identity.kind === 'ConfigMap' && identity.namespace === namespace && identity.configMapName === name) {
        entry.limitCache?.invalidate();
        this.#wake(entry);
      }
    }
  }

  #databaseChanged(databaseKey: string | undefined): void {
    const keys = databaseKey === undefined ? [...this.#databaseWaiters.keys()] : [databaseKey];
    for (const key of keys) {
      const entry = this.#registry.byDatabaseKey(key);
      if (entry && this.#databaseWaiters.has(key)) this.#wake(entry);
    }
  }

  /** Self-fencing (SPEC §5): after being declared inactive, find the holds other controllers reclaimed. */
  async #verifyDatabaseHolds(): Promise<void> {
    const database = this.#options.database!;
    const rows = await database.db.selectFrom(database.tables.state).select(['name', 'workflowkey']).where('controller', '=', database.controllerName).where('held', '=', true).execute();
    const present = new Set(rows.map((row) => `${row.name}\u0000${row.workflowkey}`));
    for (const [databaseKey, holderKeys] of this.#databaseHolds) {
      for (const holderKey of [...holderKeys]) {
        if (present.has(`${databaseKey}\u0000${holderKey}`)) continue;
        removeFrom(this.#databaseHolds, databaseKey, holderKey);
        const lockName = this.#registry.byDatabaseKey(databaseKey)?.lock.name ?? databaseKey;
        this.#options.onHoldLost?.({ workflowKey: workflowKeyOf(holderKey), holderKey, lockName });
      }
    }
  }
}

/** What the checks decided: granted (database grants' tokens by item index), or waiting with the first blocker. */
type Outcome =
  | { readonly checks: readonly LockCheck[]; readonly granted: ReadonlyMap<number, number> }
  | { readonly checks: readonly LockCheck[]; readonly message: string; readonly failedLockName: string };

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
