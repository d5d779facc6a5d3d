import type { LockState } from '../../store/sync/sync-store.js';
import type { DatabaseLock } from './database-lock.js';
import type { DatabaseSync } from './database-sync.js';
import { isSameWorkflowNodeKeys } from './holder-key.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { AcquisitionScope, Lock, LockCheck, ScopedDecision, Waiter } from './lock.js';

/**
 * How the sync database decides an all-or-nothing acquisition of its locks: one server-side call where the
 * engine has it (PostgreSQL, PGlite), else the guarded SERIALIZABLE transaction statement by statement
 * (MySQL). A waiter whose attempt cannot succeed (a lock found closed, nothing heard since) costs no round trip.
 */
export class DatabaseAcquisition implements AcquisitionScope {
  /**
   * One attempt per lock at a time from this controller: the guard row would serialise them in the database
   * anyway, where waiting ones hold pooled connections (that releases then wait for) and, on MySQL, deadlock.
   * Releases never take it.
   */
  readonly #attempts = new KeyedMutex();

  constructor(private readonly sync: DatabaseSync) {}

  refusal(): string | undefined {
    return this.sync.refusal();
  }

  acquire(locks: readonly Lock[], waiter: Waiter, limits: readonly (number | string)[], mayGrant: boolean, wholeBlock: boolean): Promise<ScopedDecision> {
    // A scope is only ever given the locks that name it.
    const databaseLocks = locks as readonly DatabaseLock[];
    return this.#attempts.runExclusive(
      databaseLocks.map((lock) => lock.key),
      () => this.#decide(databaseLocks, waiter, limits, mayGrant, wholeBlock && databaseLocks.length === 1),
    );
  }

  async #decide(databaseLocks: readonly DatabaseLock[], waiter: Waiter, limits: readonly (number | string)[], mayGrant: boolean, alone: boolean): Promise<ScopedDecision> {
    const handedOff = this.#collectHandOff(databaseLocks, waiter.holderKey);
    if (handedOff) return handedOff;
    const queued = databaseLocks.map((lock) => lock.queued(waiter.holderKey));
    const known = databaseLocks.map((lock) => lock.knownClosed(waiter.holderKey));
    if (known.every((check) => check !== undefined)) return { checks: known as LockCheck[], tokens: new Map() };
    const changes = databaseLocks.map((lock) => this.sync.changes(lock.key));
    const states = this.sync.store.acquiresServerSide ? await this.#serverSide(databaseLocks, waiter, limits, mayGrant) : await this.#statementByStatement(databaseLocks, waiter, limits, mayGrant);
    if (states.some((state, index) => state.alreadyHeld && queued[index])) {
      // Held without this attempt's grant: a release here handed it the slot meanwhile, and records the token.
      await Promise.all(databaseLocks.map((lock) => lock.handOffsRecorded()));
      const collected = this.#collectHandOff(databaseLocks, waiter.holderKey);
      if (collected) return collected;
    }
    const checks = databaseLocks.map((lock, index) => {
      const { limitRead } = states[index]!;
      return lock.verdict(limitRead === undefined ? limits[index]! : lock.limitReadInCall(limitRead), states[index]!, changes[index]!);
    });
    const tokens = new Map<number, number>();
    for (const [index, state] of states.entries()) if (state.token !== undefined) tokens.set(index, state.token);
    const granted = tokens.size > 0 || checks.every((check) => check.status === 'held');
    for (const [index, lock] of databaseLocks.entries()) {
      lock.settle(waiter.holderKey, granted || checks[index]!.status === 'held', alone);
      // A change heard while the call was out (a release elsewhere committed after the call read the holders)
      // found no waiter of this attempt's to wake yet: the waiter looks again now instead of at the next poll.
      if (!granted && this.sync.changes(lock.key) !== changes[index]) this.sync.recheck(lock.key);
    }
    return { checks, tokens };
  }

  /** The decision when releases here handed every lock to the key: acquired, with their tokens, and no round trip. */
  #collectHandOff(locks: readonly DatabaseLock[], holderKey: string): ScopedDecision | undefined {
    const tokens = locks.map((lock) => lock.handedOffToken(holderKey));
    if (!tokens.every((token) => token !== undefined)) return undefined;
    for (const lock of locks) lock.collectHandOff(holderKey);
    return { checks: tokens.map(() => ({ status: 'acquirable' })), tokens: new Map(tokens.map((token, index) => [index, token])) };
  }

  #serverSide(locks: readonly DatabaseLock[], waiter: Waiter, limits: readonly (number | string)[], mayGrant: boolean): Promise<LockState[]> {
    // Guards are taken in one order by everyone, so two acquirers of overlapping sets never deadlock.
    const order = locks.map((_, index) => index).sort((a, b) => (locks[a]!.key < locks[b]!.key ? -1 : 1));
    return this.sync.attempt(async () => {
      const sorted = await this.sync.store.acquireServerSide({
        controller: this.sync.controllerName,
        holderKey: waiter.holderKey,
        priority: waiter.priority,
        creationTime: waiter.creationTime,
        now: this.sync.now(),
        liveAfter: this.sync.liveCutoff(),
        lockKeys: order.map((index) => locks[index]!.key),
        limits: order.map((index) => (typeof limits[index] === 'number' ? limits[index] : null)),
        limitRows: order.map((index) => locks[index]!.limitRow ?? null),
        mayGrant,
      });
      const states: LockState[] = [];
      for (const [position, index] of order.entries()) states[index] = sorted[position]!;
      return states;
    });
  }

  /** MySQL: the same decision as the server-side call, in the store's guarded transaction. */
  #statementByStatement(locks: readonly DatabaseLock[], waiter: Waiter, limits: readonly (number | string)[], mayGrant: boolean): Promise<LockState[]> {
    const { controllerName } = this.sync;
    return this.sync.guardedTransaction(
      locks.map((lock) => lock.key),
      async (tx) => {
        const states: LockState[] = [];
        for (const lock of locks) if (!lock.has(waiter.holderKey)) await lock.rows.enqueue(controllerName, waiter, tx);
        for (const [index, lock] of locks.entries()) {
          const { holders, front } = await lock.rows.holdersAndFront(tx, this.sync.liveCutoff());
          const alreadyHeld = holders.includes(waiter.holderKey);
          // As the server-side call: a hold whose grant's answer was lost with a connection gets its token again.
          const token = alreadyHeld ? await lock.rows.grantToken(tx, controllerName, waiter.holderKey) : undefined;
          states.push({
            alreadyHeld,
            ...(token === undefined ? {} : { token }),
            holders: holders.length,
            holderKeys: [...holders].sort(),
            frontIsOurs: front !== undefined && front.controller === controllerName && isSameWorkflowNodeKeys(front.holderKey, waiter.holderKey),
          });
          const limit = limits[index]!;
          if (!states[index]!.alreadyHeld && (typeof limit !== 'number' || holders.length >= limit || !states[index]!.frontIsOurs)) mayGrant = false;
        }
        if (!mayGrant) return states;
        return Promise.all(
          states.map(async (state, index) => (state.alreadyHeld ? state : { ...state, token: await locks[index]!.rows.grant(tx, controllerName, waiter.holderKey, this.sync.now()) })),
        );
      },
    );
  }
}
