import type { Transaction } from 'kysely';
import type { Clock } from '../../clock.js';
import type { EngineTraits } from '../../store/engines/engine-traits.js';
import type { SqlDatabase } from '../../store/sql-database.js';
import { migrateArgosyncSyncSchema, migrateSyncSchema, type SyncTableNames } from '../../store/migrations/sync-migrations.js';
import { syncTableRefs, type SyncDb, type SyncTableRefs, type SyncTables } from './sync-tables.js';

export interface DatabaseSyncOptions {
  readonly database: SqlDatabase;
  readonly tables: SyncTableNames;
  readonly controllerName: string;
  readonly clock: Clock;
  readonly pollSeconds: number;
  readonly heartbeatSeconds: number;
  readonly inactiveControllerSeconds: number;
  /** SPEC §5: delete held rows of controllers inactive for longer than `inactiveControllerSeconds`. */
  readonly reclaimInactiveHolds: boolean;
  readonly skipMigration: boolean;
  /** Where there is no LISTEN/NOTIFY (MySQL): how often to look for freed slots while this controller has waiters. */
  readonly fastPollMs?: number;
  /** Hears failures of the periodic heartbeat and maintenance (which retry on their next round). */
  readonly onError?: (task: string, error: unknown) => void;
}

export type SyncTransaction = Transaction<SyncTables>;

/**
 * Tells every controller on the database that a lock's limit changed (the sync API calls this), so their
 * waiters look again at once; without NOTIFY (MySQL) they notice at their next poll.
 */
export async function announceLimitChange(database: SqlDatabase, lockKey: string): Promise<void> {
  await database.engine.notifications?.notify(CHANNEL, changePayload(lockKey));
}

/** A notification names the lock and, for a release, the controller that has already woken its own waiters. */
interface ChangeNotice {
  readonly lock: string;
  readonly from?: string;
}

const changePayload = (lock: string, from?: string) => JSON.stringify(from === undefined ? { lock } : { lock, from });

/** Raised inside the acquisition transaction when another controller holds a `sync_lock` row: not acquirable now. */
export class LockGuardBusy extends Error {
  constructor(readonly lockKey: string) {
    super('failed to lock()');
  }
}

const CHANNEL = 'argosync_sync';
// Retry of a transaction that lost a serialization conflict or deadlock, or found a guard row taken: Argo's
// capped, jittered exponential backoff, started lower (2 ms, not 10 ms) because a hand-off is waiting on it.
const RETRY = { attempts: 12, initialMs: 2, factor: 2, jitter: 0.5, capMs: 200 };

/**
 * One controller's session on a shared sync database (SPEC §5 rule 6): migration, the heartbeat row, the
 * `sync_lock` guard and SERIALIZABLE transaction around each acquisition, change notifications (LISTEN/NOTIFY,
 * or short polling on MySQL), reclaiming holds of dead controllers, and self-fencing when this controller finds
 * it was declared inactive.
 */
export class DatabaseSync {
  readonly db: SyncDb;
  readonly tables: SyncTableRefs;
  readonly controllerName: string;
  readonly #options: DatabaseSyncOptions;
  readonly #changeListeners = new Set<(lockKey: string | undefined) => void>();
  readonly #inactiveListeners = new Set<() => Promise<void>>();
  /** The pending timer of each periodic task, by task. */
  readonly #timers = new Map<string, () => void>();
  #stopListening: (() => Promise<void>) | undefined;
  #stopWatchingReconnections: (() => void) | undefined;
  #started = false;
  #admitting = true;
  #stopped = false;
  #hasWaiters: () => boolean = () => false;

  constructor(options: DatabaseSyncOptions) {
    this.#options = options;
    this.db = options.database.db as SyncDb;
    this.tables = syncTableRefs(options.tables);
    this.controllerName = options.controllerName;
  }

  get description(): string {
    return this.#options.database.description;
  }

  /** False while this controller re-verifies its holds after finding itself declared inactive. */
  get admitting(): boolean {
    return this.#admitting;
  }

  async start(): Promise<void> {
    if (!this.#options.skipMigration) await migrateSyncSchema(this.#options.database, this.#options.tables);
    await migrateArgosyncSyncSchema(this.#options.database);
    // Guard rows this controller left behind when it died mid-acquisition.
    await this.db.deleteFrom(this.tables.lock).where('controller', '=', this.controllerName).execute();
    await this.heartbeat();
    const notifications = this.#options.database.engine.notifications;
    if (notifications)
      this.#stopListening = await notifications.listen(CHANNEL, (payload) => {
        const notice = JSON.parse(payload) as ChangeNotice;
        if (notice.from !== this.controllerName) this.#emitChange(notice.lock);
      });
    this.#watchReconnections();
    this.#every('heartbeat', this.#options.heartbeatSeconds * 1000, () => this.heartbeat());
    this.#every('maintain', this.#options.pollSeconds * 1000, () => this.maintain());
    if (!notifications) this.#pollWhileWaiting();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopWatchingReconnections?.();
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
    await this.#stopListening?.();
  }

  /** Calls `listener` with a lock key when that lock may have freed a slot, or undefined when any may have. */
  onChange(listener: (lockKey: string | undefined) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /** Registers the check run when this controller finds it was declared inactive (its holds may be gone). */
  onDeclaredInactive(listener: () => Promise<void>): void {
    this.#inactiveListeners.add(listener);
  }

  /** Tells the sync manager whether to poll fast (MySQL) because local workflows wait on database locks. */
  setWaiterProbe(hasWaiters: () => boolean): void {
    this.#hasWaiters = hasWaiters;
  }

  /**
   * Lets `tx` commit without waiting for the disk: for writes that are safe to lose in a database crash
   * (guard rows, queue rows, releases). Grants are never relaxed, so a crash can never over-admit.
   */
  relaxDurability(tx: SyncTransaction): Promise<void> {
    return this.#options.database.engine.relaxCommitDurability(tx);
  }

  /** How the engine upserts (grants and fencing tokens are one statement each). */
  get upsert(): EngineTraits['upsert'] {
    return this.#options.database.engine.upsert;
  }

  /** Heartbeats older than this belong to inactive controllers. */
  liveCutoff(): Date {
    return new Date(this.#options.clock.now() - this.#options.inactiveControllerSeconds * 1000);
  }

  now(): Date {
    return new Date(this.#options.clock.now());
  }

  /**
   * Refreshes this controller's `sync_controller` row. Finding the row missing or older than the inactivity
   * timeout means others may have reclaimed this controller's holds: it then fences itself (SPEC §5).
   */
  async heartbeat(): Promise<void> {
    const { db, tables, controllerName } = this;
    const previous = await db.selectFrom(tables.controller).select('time').where('controller', '=', controllerName).executeTakeFirst();
    const now = this.now();
    if (previous) {
      await db.updateTable(tables.controller).set({ time: now }).where('controller', '=', controllerName).execute();
    } else {
      await db
        .insertInto(tables.controller)
        .values({ controller: controllerName, time: now })
        .execute()
        .catch((error: unknown) => {
          if (!this.#options.database.engine.isUniqueViolation(error)) throw error;
        });
    }
    const declaredInactive = this.#started && (!previous || previous.time === null || previous.time <= this.liveCutoff());
    this.#started = true;
    if (declaredInactive) await this.#selfFence();
  }

  /** The periodic work of every `pollSeconds`: reclaim dead controllers' rows, then let waiters look again. */
  async maintain(): Promise<void> {
    const cutoff = this.liveCutoff();
    const live = this.db.selectFrom(this.tables.controller).select('controller').where('time', '>', cutoff);
    await this.db.deleteFrom(this.tables.lock).where('controller', 'not in', live).execute();
    if (this.#options.reclaimInactiveHolds) {
      const reclaimed = await this.db.selectFrom(this.tables.state).select('name').distinct().where('held', '=', true).where('controller', 'not in', live).execute();
      if (reclaimed.length > 0) {
        await this.db.deleteFrom(this.tables.state).where('held', '=', true).where('controller', 'not in', live).execute();
        await this.db.deleteFrom('argosync_sync_grant').where('controller', 'not in', live).execute();
      }
    }
    this.#emitChange(undefined);
  }

  /**
   * Runs one all-or-nothing acquisition in a SERIALIZABLE transaction guarded by the `sync_lock` rows of its
   * locks (Argo's cross-controller guard). The guard rows are written and deleted inside the transaction:
   * another acquirer of the same lock waits on the uncommitted row instead of polling for it, a crash can never
   * leave one behind, and two commits are saved. An Argo controller's committed guard row makes the insert fail;
   * that, serialization failures and deadlocks are retried with backoff. Throws LockGuardBusy when a guard row
   * stays taken.
   */
  async acquisition<T>(lockKeys: readonly string[], fn: (tx: SyncTransaction) => Promise<T>): Promise<T> {
    const keys = [...new Set(lockKeys)].sort();
    const { engine } = this.#options.database;
    let busyKey: string | undefined;
    try {
      return await this.#retrying(
        () =>
          this.db
            .transaction()
            .setIsolationLevel('serializable')
            .execute(async (tx) => {
              for (const key of keys) {
                busyKey = key;
                await tx.insertInto(this.tables.lock).values({ name: key, controller: this.controllerName, time: this.now() }).execute();
              }
              busyKey = undefined;
              const result = await fn(tx);
              await tx.deleteFrom(this.tables.lock).where('name', 'in', keys).where('controller', '=', this.controllerName).execute();
              return result;
            }),
        (error) => engine.isUniqueViolation(error) && busyKey !== undefined,
      );
    } catch (error) {
      if (busyKey !== undefined && engine.isUniqueViolation(error)) throw new LockGuardBusy(busyKey);
      throw error;
    }
  }

  /**
   * Runs `fn` (which returns how many holds it removed) in a transaction; when it removed any, tells every
   * controller that `lockKey` may have a free slot: others on commit (NOTIFY), this one at once.
   */
  async releasing(lockKey: string, fn: (tx: SyncTransaction) => Promise<number>): Promise<number> {
    const released = await this.#retrying(() => this.db.transaction().execute(async (tx) => {
      // A release lost in a database crash only delays the next grant until the existence sweep: never unsafe.
      await this.relaxDurability(tx);
      const count = await fn(tx);
      if (count > 0) await this.#options.database.engine.notifications?.notify(CHANNEL, changePayload(lockKey, this.controllerName), tx);
      return count;
    }));
    if (released > 0) this.#emitChange(lockKey);
    return released;
  }

  /** Runs a write again on serialization failures and deadlocks (and on `alsoRetry`), with capped, jittered backoff. */
  async #retrying<T>(write: () => Promise<T>, alsoRetry: (error: unknown) => boolean = () => false): Promise<T> {
    const engine = this.#options.database.engine;
    let delay = RETRY.initialMs;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await write();
      } catch (error) {
        const retryable = engine.isRetryableTransactionError(error) || alsoRetry(error);
        if (attempt >= RETRY.attempts || !retryable || this.#stopped) throw error;
        await this.#options.clock.sleep(delay * (1 + RETRY.jitter * Math.random()));
        delay = Math.min(delay * RETRY.factor, RETRY.capMs);
      }
    }
  }

  /** A single statement outside any acquisition, retried like one (InnoDB may pick it as a deadlock victim). */
  write<T>(statement: (db: SyncDb) => Promise<T>): Promise<T> {
    return this.#retrying(() => statement(this.db));
  }

  async #selfFence(): Promise<void> {
    this.#admitting = false;
    try {
      for (const listener of this.#inactiveListeners) await listener();
    } finally {
      this.#admitting = true;
    }
  }

  #emitChange(lockKey: string | undefined): void {
    for (const listener of this.#changeListeners) listener(lockKey);
  }

  /** Runs `task` every `ms` after the previous run ended; a failed run is retried at the next round. */
  #every(name: string, ms: number, task: () => Promise<void>): void {
    const schedule = () => {
      if (!this.#stopped) this.#timers.set(name, this.#options.clock.schedule(ms, run));
    };
    const run = () => void task().catch((error: unknown) => this.#options.onError?.(name, error)).finally(schedule);
    schedule();
  }

  /** After an outage or a re-established LISTEN, releases may have gone unheard: every lock with waiters looks once. */
  #watchReconnections(): void {
    this.#stopWatchingReconnections = this.#options.database.onReconnected(() => this.#emitChange(undefined));
  }

  /** MySQL has no NOTIFY: while local workflows wait, look for freed slots every few tens of milliseconds. */
  #pollWhileWaiting(): void {
    this.#every('fast-poll', this.#options.fastPollMs ?? 50, async () => {
      if (this.#hasWaiters()) this.#emitChange(undefined);
    });
  }
}
