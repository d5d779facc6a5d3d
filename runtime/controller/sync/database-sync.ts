import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { SqlDatabase } from '../../store/sql-database.js';
import type { SyncTableNames } from '../../store/migrations/sync-migrations.js';
import type { SyncTransaction } from '../../store/sync/sync-schema.js';
import { SyncStore } from '../../store/sync/sync-store.js';
import type { HandOff, Release } from '../../store/sync/lock-rows.js';
import { DatabaseAcquisition } from './database-acquisition.js';
import { AcquisitionDeferred } from './lock.js';
import { DEFAULT_VACUUM_POLICY, VacuumSchedule, type VacuumPolicy } from './vacuum-schedule.js';

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
  /** How often the sync tables are vacuumed (PostgreSQL, PGlite), from this controller's writes. */
  readonly vacuum?: VacuumPolicy;
  /** Hears failures of the periodic heartbeat, maintenance and vacuum (which retry on their next round), and of the notification probe. */
  readonly onError?: (task: string, error: unknown) => void;
  /** Hears what the operator should know that this controller works around (notifications that never arrive). */
  readonly onWarning?: (line: string) => void;
}

const CHANNEL = 'argosync_sync';
const DEFAULT_FAST_POLL_MS = 50;

/**
 * Tells every controller on the database that a lock's limit changed (the sync API calls this), so their
 * waiters look again at once; without NOTIFY (MySQL) they notice at their next poll.
 */
export async function announceLimitChange(store: SyncStore, lockKey: string): Promise<void> {
  await store.notify(CHANNEL, changePayload(lockKey));
}

/**
 * A notification names the lock and, for a release, the controller that has already woken its own waiters; or
 * it is a controller's probe of its own (`probe`, a random id), sent to learn whether notifications arrive.
 */
type ChangeNotice = { readonly lock: string; readonly from?: string } | { readonly probe: string };

const changePayload = (lock: string, from?: string) => JSON.stringify(from === undefined ? { lock } : { lock, from });

/** Lock rows' `name` column (Argo's DDL): a longer name in a notice names no lock. */
const MAX_LOCK_KEY_LENGTH = 256;

/** A probe's id is a UUID: anything longer is no probe of this controller's. */
const MAX_PROBE_LENGTH = 36;

/**
 * A notice as heard, or undefined for anything else: any user of the database may NOTIFY on the channel, and a
 * payload that throws in the driver's notification handler would take the controller down.
 */
function changeNotice(payload: string): ChangeNotice | undefined {
  try {
    const notice = JSON.parse(payload) as Partial<Record<'lock' | 'from' | 'probe', unknown>> | null;
    if (typeof notice?.probe === 'string' && notice.probe.length <= MAX_PROBE_LENGTH) return { probe: notice.probe };
    if (typeof notice?.lock !== 'string' || notice.lock.length > MAX_LOCK_KEY_LENGTH || (notice.from !== undefined && typeof notice.from !== 'string')) return undefined;
    return { lock: notice.lock, ...(notice.from === undefined ? {} : { from: notice.from }) };
  } catch {
    return undefined;
  }
}

/**
 * How long a controller's probe may take to come back before notifications count as not arriving: behind a
 * transaction-pooling proxy LISTEN is accepted, and nothing is ever delivered.
 */
const NOTIFICATION_PROBE_MS = 2_000;

// Retry of a transaction that lost a serialization conflict or deadlock, or found a guard row taken: Argo's
// capped, jittered exponential backoff, started lower (2 ms, not 10 ms) because a hand-off is waiting on it.
// Contention is retried for as long as the controller runs (a busy cluster must never fail a workflow for it);
// a guard row another controller keeps committed is given up after `guardAttempts`, and the attempt waits.
const RETRY = { guardAttempts: 12, initialMs: 2, factor: 2, jitter: 0.5, capMs: 200 };

/**
 * One controller's session on a shared sync database (SPEC §5 rule 6): migration, the heartbeat, the guarded
 * SERIALIZABLE transaction around each acquisition, retries under contention, change notifications
 * (LISTEN/NOTIFY, or short polling on MySQL and where notifications never arrive), reclaiming holds of dead
 * controllers, vacuuming the tables its writes churn, and noticing that this controller was declared inactive.
 * The statements themselves belong to the SyncStore.
 */
export class DatabaseSync {
  readonly store: SyncStore;
  readonly controllerName: string;
  /** Decides the acquisitions of this database's locks. */
  readonly acquisitions: DatabaseAcquisition;
  /** How many changes were heard per lock row name: a lock found closed stays closed until its count moves. */
  readonly #changes = new Map<string, number>();
  readonly #options: DatabaseSyncOptions;
  readonly #changeListeners = new Set<(lockKey: string) => void>();
  readonly #handOffListeners = new Set<(holderKey: string) => void>();
  readonly #inactiveListeners = new Set<() => Promise<void>>();
  /** This controller's rows found at start (left by its previous run), by lock row name, until their lock takes them. */
  readonly #leftovers = new Map<string, { holderKey: string; held: boolean }[]>();
  /** Row names of the locks on which this controller has waiters, so polling looks only where someone waits. */
  readonly #waitingLocks = new Set<string>();
  /** Vacuums the sync tables as this controller's writes leave dead rows in them; undefined where InnoDB purges them. */
  readonly #vacuum: VacuumSchedule | undefined;
  /** The pending timer of each periodic task, by task. */
  readonly #timers = new Map<string, () => void>();
  /** Probes of this controller's own sent and not yet heard back, by id. */
  readonly #probes = new Map<string, () => void>();
  #stopListening: (() => Promise<void>) | undefined;
  #stopWatchingReconnections: (() => void) | undefined;
  #started = false;
  #admitting = true;
  #stopped = false;

  constructor(options: DatabaseSyncOptions) {
    this.#options = options;
    this.store = new SyncStore(options.database, options.tables);
    this.controllerName = options.controllerName;
    this.acquisitions = new DatabaseAcquisition(this);
    const { vacuum } = this.store;
    if (vacuum.needed) this.#vacuum = new VacuumSchedule(() => vacuum.run(), options.clock, options.vacuum ?? DEFAULT_VACUUM_POLICY, (error) => options.onError?.('vacuum', error));
  }

  /** How many changes were heard about the lock so far. */
  changes(lockKey: string): number {
    return this.#changes.get(lockKey) ?? 0;
  }

  get description(): string {
    return this.store.description;
  }

  /** Set while this controller re-verifies its holds after finding itself declared inactive. */
  refusal(): string | undefined {
    return this.#admitting ? undefined : `controller ${this.controllerName} was declared inactive and is re-verifying its holds`;
  }

  async start(): Promise<void> {
    await this.store.migrate(this.#options.skipMigration);
    await this.store.controllers.clearGuardsOf(this.controllerName);
    for (const row of await this.store.controllers.rowsOf(this.controllerName)) {
      const rows = this.#leftovers.get(row.lockKey) ?? [];
      rows.push({ holderKey: row.holderKey, held: row.held });
      this.#leftovers.set(row.lockKey, rows);
    }
    await this.heartbeat();
    const listening = this.store.listen(CHANNEL, (payload) => {
      const notice = changeNotice(payload);
      if (notice === undefined) return;
      if ('probe' in notice) this.#probes.get(notice.probe)?.();
      else if (notice.from !== this.controllerName) this.#emitChange(notice.lock);
    });
    this.#stopListening = await listening;
    this.#watchReconnections();
    this.#every('heartbeat', this.#options.heartbeatSeconds * 1000, () => this.heartbeat());
    this.#every('maintain', this.#options.pollSeconds * 1000, () => this.maintain());
    if (!listening) this.#pollWhileWaiting();
    else void this.#checkNotificationsArrive();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopWatchingReconnections?.();
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
    await this.#vacuum?.stop();
    await this.#stopListening?.();
  }

  /** Calls `listener` with a lock's row name when that lock may have freed a slot for one of this controller's waiters. */
  onChange(listener: (lockKey: string) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /** Calls `listener` with the holder key of a waiter of this controller that a release here granted a lock to. */
  onHandOff(listener: (holderKey: string) => void): () => void {
    this.#handOffListeners.add(listener);
    return () => this.#handOffListeners.delete(listener);
  }

  /** Registers the check run when this controller finds it was declared inactive (its holds may be gone). */
  onDeclaredInactive(listener: () => Promise<void>): void {
    this.#inactiveListeners.add(listener);
  }

  /** Row names of the locks that have rows of this controller's previous run not yet taken over. */
  leftoverLocks(): string[] {
    return [...this.#leftovers.keys()];
  }

  /** Hands the rows of this controller's previous run on a lock to that lock, once. */
  takeLeftovers(lockKey: string): { holderKey: string; held: boolean }[] {
    const rows = this.#leftovers.get(lockKey) ?? [];
    this.#leftovers.delete(lockKey);
    return rows;
  }

  /** Database locks say whether this controller has waiters on them, so only those locks are looked at again. */
  setWaiting(lockKey: string, waiting: boolean): void {
    if (waiting) this.#waitingLocks.add(lockKey);
    else this.#waitingLocks.delete(lockKey);
  }

  /**
   * Makes every lock on which this controller has waiters look again at once. The single entry point for
   * "something may have changed that no notification told us": the poll, and a reconnected listener.
   */
  recheckWaitingLocks(): void {
    for (const lockKey of [...this.#waitingLocks]) this.recheck(lockKey);
  }

  /** Makes this controller's waiters on the lock look again, as a change heard about it would. */
  recheck(lockKey: string): void {
    this.#emitChange(lockKey);
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
    const previous = await this.store.controllers.beat(this.controllerName, this.now());
    const declaredInactive = this.#started && (previous === undefined || previous === null || previous <= this.liveCutoff());
    this.#started = true;
    if (declaredInactive) await this.#selfFence();
  }

  /**
   * The periodic work of every `pollSeconds`: reclaim dead controllers' rows, let waiters look again, and start
   * a vacuum that came due after the last write.
   */
  async maintain(): Promise<void> {
    const cutoff = this.liveCutoff();
    await this.store.controllers.expireInactiveGuards(cutoff);
    if (this.#options.reclaimInactiveHolds) await this.store.controllers.reclaimInactiveHolds(cutoff);
    this.recheckWaitingLocks();
    this.#vacuum?.startIfDue();
  }

  /**
   * Runs one acquisition decision (`decide`, which takes guard rows; `guarding` says whether it was taking one
   * when it failed), retrying serialization
   * failures and deadlocks with backoff for as long as this controller runs, and an Argo controller's committed
   * guard row a few times. Throws AcquisitionDeferred when a guard row stays taken or the controller stops
   * meanwhile; never a serialization failure or deadlock.
   */
  async attempt<T>(decide: () => Promise<T>, guarding: () => boolean = () => true): Promise<T> {
    let guardAttempts = 0;
    try {
      return await this.#retrying(decide, (error) => this.store.isUniqueViolation(error) && guarding() && (guardAttempts += 1) < RETRY.guardAttempts);
    } catch (error) {
      if (guarding() && this.store.isUniqueViolation(error)) throw new AcquisitionDeferred('failed to lock()');
      if (this.store.isContention(error)) throw new AcquisitionDeferred(`controller ${this.controllerName} is stopping`);
      throw error;
    }
  }

  /** An acquisition decided statement by statement, in the store's guarded SERIALIZABLE transaction, as `attempt` retries it. */
  guardedTransaction<T>(lockKeys: readonly string[], fn: (tx: SyncTransaction) => Promise<T>): Promise<T> {
    const keys = [...new Set(lockKeys)].sort();
    let busyKey: string | undefined;
    return this.attempt(
      () => this.store.acquisition(keys, this.controllerName, this.now(), (key) => (busyKey = key), fn),
      () => busyKey !== undefined,
    );
  }

  /**
   * Releases this controller's hold of `holderKey` on the lock. Given `handOff`, the freed slot may go to one of
   * this controller's waiters in the same commit (the lock then calls `handedOff`). Otherwise, when there was a
   * hold, this controller's waiters look again at once, and other controllers are told on commit (NOTIFY;
   * MySQL's waiters poll).
   */
  async release(lockKey: string, holderKey: string, handOff?: HandOff): Promise<Release> {
    const notice = { channel: CHANNEL, payload: changePayload(lockKey, this.controllerName) };
    const release = await this.#retrying(() => this.store.lock(lockKey).release(this.controllerName, holderKey, notice, handOff));
    if (!release.handedOff && release.released > 0) this.#emitChange(lockKey);
    return release;
  }

  /** Wakes the workflow of a waiter that a release here granted a lock to, once its lock has recorded the grant. */
  handedOff(holderKey: string): void {
    for (const listener of this.#handOffListeners) listener(holderKey);
  }

  /** A write outside any acquisition, retried like one (InnoDB may pick it as a deadlock victim). */
  write<T>(statement: () => Promise<T>): Promise<T> {
    return this.#retrying(statement);
  }

  /**
   * Runs a write again on serialization failures and deadlocks, without limit while the controller runs (and on
   * `alsoRetry`), with capped, jittered backoff.
   */
  async #retrying<T>(write: () => Promise<T>, alsoRetry: (error: unknown) => boolean = () => false): Promise<T> {
    let delay = RETRY.initialMs;
    for (;;) {
      try {
        const result = await write();
        this.#vacuum?.wrote();
        return result;
      } catch (error) {
        const retryable = this.store.isContention(error) || alsoRetry(error);
        if (!retryable || this.#stopped) throw error;
        await this.#options.clock.sleep(delay * (1 + RETRY.jitter * Math.random()));
        delay = Math.min(delay * RETRY.factor, RETRY.capMs);
      }
    }
  }

  async #selfFence(): Promise<void> {
    this.#admitting = false;
    try {
      for (const listener of this.#inactiveListeners) await listener();
    } finally {
      this.#admitting = true;
    }
  }

  #emitChange(lockKey: string): void {
    this.#changes.set(lockKey, this.changes(lockKey) + 1);
    if (!this.#waitingLocks.has(lockKey)) return;
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
    this.#stopWatchingReconnections = this.#options.database.onReconnected(() => this.recheckWaitingLocks());
  }

  /**
   * Sends this controller a probe on the channel and waits for it. When it does not come back (LISTEN behind
   * PgBouncer's transaction pooling: accepted, never delivered), releases on other controllers would go unheard
   * until the next `pollSeconds`: this controller's waiters then poll as on MySQL, and the operator is told.
   */
  async #checkNotificationsArrive(): Promise<void> {
    const probe = randomUUID();
    const arrived = new Promise<boolean>((resolve) => {
      this.#timers.set('notification-probe', this.#options.clock.schedule(NOTIFICATION_PROBE_MS, () => resolve(false)));
      this.#probes.set(probe, () => resolve(true));
    });
    try {
      await this.store.notify(CHANNEL, JSON.stringify({ probe }));
      if ((await arrived) || this.#stopped) return;
    } catch (error) {
      // The database is away: its reconnection makes every waiting lock look again, and the poll stays.
      this.#options.onError?.('notification probe', error);
      return;
    } finally {
      this.#probes.delete(probe);
      this.#timers.get('notification-probe')?.();
      this.#timers.delete('notification-probe');
    }
    const pollMs = this.#options.fastPollMs ?? DEFAULT_FAST_POLL_MS;
    this.#options.onWarning?.(
      `notifications on ${this.description} do not arrive within ${NOTIFICATION_PROBE_MS} ms (a transaction-pooling proxy such as PgBouncer?): ` +
        `this controller looks for slots freed by other controllers every ${pollMs} ms while its workflows wait`,
    );
    this.#pollWhileWaiting();
  }

  /** Without notifications (MySQL, or none arriving): while local workflows wait, look for freed slots every few tens of milliseconds. */
  #pollWhileWaiting(): void {
    this.#every('fast-poll', this.#options.fastPollMs ?? DEFAULT_FAST_POLL_MS, async () => this.recheckWaitingLocks());
  }
}
