import type { HandOff, LockRows } from '../../store/sync/lock-rows.js';
import type { LockState } from '../../store/sync/sync-store.js';
import type { DatabaseSync } from './database-sync.js';
import { workflowKeyOf } from './holder-key.js';
import { databaseLimitReading } from './database-limit-source.js';
import { LimitTracker, type LimitSource } from './limit-source.js';
import type { AcquisitionScope, Lock, LockCheck, LockKind, LockSnapshot, ScopedLock, Waiter } from './lock.js';
import { databaseWaitingMessage, missingLimitMessage } from './lock-messages.js';
import { databaseLimitKey, decodeDatabaseLockKey } from './lock-name.js';

/**
 * A semaphore or mutex in the shared sync database, speaking Argo's table protocol (argo-reference §4.5, §5):
 * queue rows `held=false`, holds `held=true`, the queue ordered over live controllers only. Grants also bump
 * argosync's fencing counter for the lock and record the token. The lock owns this controller's rows: it
 * remembers which of its keys hold and which wait, so releases and sweeps need not ask the database.
 */
export class DatabaseLock implements ScopedLock {
  readonly storage = 'database';
  readonly #limit: LimitTracker;
  readonly #rows: LockRows;
  /** This controller's rows of the lock, as written (after commit) or verified at startup. */
  readonly #mine = new Map<string, 'held' | 'queued'>();
  #queued = 0;
  /** Queued keys of this controller whose block is this lock alone: a release here may grant them the slot it frees. */
  readonly #handOffEligible = new Set<string>();
  /** Keys a release here granted the lock to, with their fencing tokens, until their workflow's attempt collects them. */
  readonly #handedOff = new Map<string, number>();
  /** Releases here that may hand off a slot, until they have recorded whether they did. */
  readonly #handingOff = new Set<Promise<boolean>>();
  /**
   * The waiting message and holders when the last decision found the lock full, and the lock's change count
   * then: until a change is heard (a release, a limit change, a poll), another attempt would only be told the
   * same. A hand-off here changes the holders without a change: waiters keep the holders they were shown, so
   * their workflows' statuses do not change (and get written) at every hand-off.
   */
  #closed: { readonly message: string; readonly holders: readonly string[]; readonly changes: number } | undefined;
  /** A semaphore's `sync_limit` row, where the acquisition and release calls read it themselves (PostgreSQL, PGlite). */
  readonly limitRow: string | undefined;
  /** The namespace and name the key encodes. */
  readonly #identity: { readonly namespace: string; readonly name: string };

  constructor(
    readonly name: string,
    readonly kind: LockKind,
    /** `sem/<ns>/<key>` or `mtx/<ns>/<name>`. */
    readonly key: string,
    limits: LimitSource,
    private readonly sync: DatabaseSync,
  ) {
    this.#limit = new LimitTracker(limits);
    this.#rows = sync.store.lock(key);
    this.#identity = decodeDatabaseLockKey(key);
    if (kind === 'semaphore' && sync.store.acquiresServerSide) this.limitRow = databaseLimitKey(this.#identity.namespace, this.#identity.name);
    for (const row of sync.takeLeftovers(key)) this.#note(row.holderKey, row.held ? 'held' : 'queued');
  }

  get scope(): AcquisitionScope {
    return this.sync.acquisitions;
  }

  /** Rows of this lock in the store. */
  get rows(): LockRows {
    return this.#rows;
  }

  /** Inserts the queue row unless this controller has a row for the key (when an acquisition cannot be decided). */
  async enqueue(waiter: Waiter): Promise<void> {
    if (this.#mine.has(waiter.holderKey)) return;
    await this.sync.write(() => this.#rows.enqueue(this.sync.controllerName, waiter));
    this.#note(waiter.holderKey, 'queued');
  }

  /** Whether this controller already has a queue row or hold for the key. */
  has(holderKey: string): boolean {
    return this.#mine.has(holderKey);
  }

  readLimit(holderKey: string): Promise<number | string> {
    // A release here granted the key the lock: its attempt only collects the token, and reads nothing. Where the
    // acquisition call reads a semaphore's row itself, the last limit only stands in until it does.
    const last = this.#limit.last;
    if ((this.#handedOff.has(holderKey) || this.limitRow !== undefined) && last !== undefined) return Promise.resolve(last);
    return this.#limit.read();
  }

  /** The limit as the acquisition call read it from `limitRow`, as `readLimit` would have returned it. */
  limitReadInCall(value: number | null): number | string {
    return this.#limit.accept(databaseLimitReading(this.#identity.namespace, this.#identity.name, value));
  }

  /**
   * The waiting check a new attempt of a queued key would get without asking the database: set while nothing
   * was heard about the lock since it was found full.
   */
  knownClosed(holderKey: string): LockCheck | undefined {
    if (!this.#closed || this.#closed.changes !== this.sync.changes(this.key) || this.#mine.get(holderKey) !== 'queued') return undefined;
    return { status: 'waiting', message: this.#closed.message, holders: this.#closed.holders };
  }

  /** Argo's checkAcquire on the state an acquisition found; remembers a closed lock. */
  verdict(limit: number | string, state: LockState, changes: number): LockCheck {
    this.#closed = undefined;
    if (state.alreadyHeld) return { status: 'held' };
    const holders = state.holderKeys ?? [];
    if (typeof limit === 'string') return { status: 'waiting', message: missingLimitMessage(this.name, limit), missingLimit: limit, holders };
    const message = databaseWaitingMessage(this.name, this.key, state.holders, limit);
    if (state.holders >= limit) {
      this.#closed = { message, holders, changes };
      return { status: 'waiting', message, holders };
    }
    // Not remembered: the waiter in front is told otherwise, and it may be one of this controller's.
    if (!state.frontIsOurs) return { status: 'waiting', message, slotFree: true, holders };
    return { status: 'acquirable' };
  }

  /**
   * After an acquisition committed: the key holds (granted or already held) or waits in the queue; `alone` says
   * its block needs nothing but this lock, so a release may hand it the slot.
   */
  settle(holderKey: string, holds: boolean, alone: boolean): void {
    // An attempt decided before a release here handed the key the slot: the hand-off is newer.
    if (!holds && this.#handedOff.has(holderKey)) return;
    this.#note(holderKey, holds ? 'held' : 'queued');
    if (!holds && alone) this.#handOffEligible.add(holderKey);
  }

  /** The fencing token of a grant a release here made to the key, not yet collected by its workflow's attempt. */
  handedOffToken(holderKey: string): number | undefined {
    return this.#handedOff.get(holderKey);
  }

  /** The workflow's attempt has taken the hand-off. */
  collectHandOff(holderKey: string): void {
    this.#handedOff.delete(holderKey);
  }

  /**
   * A row is either a hold or a queue entry: only the one this controller knows of is touched (both when unknown).
   * A waiter that leaves is offered no more slots, and a hand-off already under way to it is waited for, so a
   * slot handed to a workflow that is gone is released here rather than left held.
   */
  async release(holderKey: string): Promise<boolean> {
    this.#handOffEligible.delete(holderKey);
    if (this.#mine.get(holderKey) === 'queued') await this.handOffsRecorded();
    const known = this.#mine.get(holderKey);
    let released = false;
    if (known !== 'queued') released = await this.#releaseHold(holderKey);
    if (known !== 'held') await this.sync.write(() => this.#rows.dequeue(holderKey));
    this.#note(holderKey, undefined);
    return released;
  }

  /** Whether this controller's row for the key is a queue entry. */
  queued(holderKey: string): boolean {
    return this.#mine.get(holderKey) === 'queued';
  }

  /**
   * Resolves once every release here that may have handed off a slot has recorded what it did: an attempt that
   * found its key held without having been granted it waits for this, to collect the token.
   */
  async handOffsRecorded(): Promise<void> {
    await Promise.allSettled([...this.#handingOff]);
  }

  /** Deletes the hold; a grant the release made to a waiter is recorded, and the waiter's workflow woken, before it resolves. */
  #releaseHold(holderKey: string): Promise<boolean> {
    const handOff = this.#handOff();
    const releasing = (async () => {
      const { released, handedOff } = await this.sync.release(this.key, holderKey, handOff);
      if (handedOff) {
        this.#note(handedOff.holderKey, 'held');
        this.#handedOff.set(handedOff.holderKey, handedOff.token);
        this.sync.handedOff(handedOff.holderKey);
      }
      return released > 0;
    })();
    if (!handOff) return releasing;
    this.#handingOff.add(releasing);
    return releasing.finally(() => this.#handingOff.delete(releasing));
  }

  /** What a release may hand the freed slot to: only where the database decides it in the release's own call. */
  #handOff(): HandOff | undefined {
    if (this.#handOffEligible.size === 0 || !this.sync.store.acquiresServerSide || this.sync.refusal() !== undefined) return undefined;
    // The release reads a semaphore's row itself: never older than what an acquisition would read, and no round trip.
    const row = this.limitRow;
    const limit = row === undefined ? { fixed: 1 } : { row };
    return { limit, eligible: [...this.#handOffEligible], now: this.sync.now(), liveAfter: this.sync.liveCutoff() };
  }

  /** At startup, Argo only verifies that the hold is still recorded (by any controller). */
  async reacquire(holderKey: string): Promise<void> {
    let held;
    try {
      held = await this.#rows.isHeld(holderKey);
    } catch (error) {
      throw new Error(`could not verify hold on ${this.key} for ${holderKey}: ${(error as Error).message}`);
    }
    if (!held) throw new Error(`hold on ${this.key} for ${holderKey} is not present in the database`);
    this.#note(holderKey, 'held');
  }

  async lostHolds(): Promise<string[]> {
    const present = new Set(await this.#rows.heldBy(this.sync.controllerName));
    const lost = [...this.#mine].filter(([holderKey, row]) => row === 'held' && !present.has(holderKey)).map(([holderKey]) => holderKey);
    for (const holderKey of lost) this.#note(holderKey, undefined);
    return lost;
  }

  /** This controller's waiters among the first `limit − holders` live queue entries (Argo's notifyWaiters). */
  async admissible(): Promise<string[]> {
    const limit = await this.#limit.read();
    if (typeof limit === 'string') return [];
    // No more than `limit` waiters can be admitted, so a long queue is not read whole.
    const { holders, waiters } = await this.#rows.frontOfQueue(this.sync.liveCutoff(), limit);
    return waiters
      .slice(0, Math.max(0, limit - holders))
      .filter((waiter) => waiter.controller === this.sync.controllerName)
      .map((waiter) => waiter.holderKey);
  }

  keys(): string[] {
    return [...this.#mine.keys()];
  }

  keysOf(workflowKey: string): string[] {
    const keys: string[] = [];
    for (const holderKey of this.#mine.keys()) if (workflowKeyOf(holderKey) === workflowKey) keys.push(holderKey);
    return keys;
  }

  async snapshot(): Promise<LockSnapshot> {
    return databaseLockSnapshot(this, await this.#limit.read().catch(() => this.#limit.last), this.#rows, this.sync.liveCutoff());
  }

  #note(holderKey: string, row: 'held' | 'queued' | undefined): void {
    const before = this.#mine.get(holderKey);
    if (row === undefined) this.#mine.delete(holderKey);
    else this.#mine.set(holderKey, row);
    this.#queued += Number(row === 'queued') - Number(before === 'queued');
    if (row !== 'queued') this.#handOffEligible.delete(holderKey);
    if (row !== 'held') this.#handedOff.delete(holderKey);
    this.sync.setWaiting(this.key, this.#queued > 0);
  }
}

/**
 * Holders and the live queue of a database lock, as the API, UI and metrics show them; also what a server
 * without a controller reads (it has no lock objects, only the store).
 */
export async function databaseLockSnapshot(lock: Pick<Lock, 'name' | 'kind'>, limit: number | string | undefined, rows: LockRows, liveCutoff: Date): Promise<LockSnapshot> {
  return { name: lock.name, kind: lock.kind, storage: 'database', limit: typeof limit === 'number' ? limit : undefined, ...(await rows.holdersAndWaiters(liveCutoff)) };
}
