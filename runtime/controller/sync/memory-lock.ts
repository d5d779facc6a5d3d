import type { Clock } from '../../clock.js';
import { isSameWorkflowNodeKeys, workflowKeyOf } from './holder-key.js';
import { LimitTracker, type LimitSource } from './limit-source.js';
import type { Holder, InProcessLock, LockCheck, LockKind, LockSnapshot, LockStorage, Waiter } from './lock.js';
import { missingLimitMessage, waitingMessage } from './lock-messages.js';
import { compareWaiters } from './queue-order.js';

/**
 * An in-memory semaphore (limit from a ConfigMap) or mutex (limit 1): Argo's `prioritySemaphore`, with holders
 * counted against the live limit, so lowering a limit lets holders drain and raising it admits at once.
 * Check-then-grant atomicity comes from the sync manager's per-lock mutex.
 */
export class MemoryLock implements InProcessLock {
  readonly storage: LockStorage;
  readonly scope = undefined;
  readonly #holders = new Map<string, Holder>();
  readonly #queue: Waiter[] = [];
  /** Holder keys of holders and waiters by workflow (`ns/wf`), so that releasing one workflow looks at its keys only. */
  readonly #byWorkflow = new Map<string, Set<string>>();
  #lastToken = 0;
  readonly #limit: LimitTracker;

  constructor(
    readonly name: string,
    readonly kind: LockKind,
    limits: LimitSource,
    private readonly clock: Clock,
  ) {
    this.#limit = new LimitTracker(limits);
    this.storage = kind === 'mutex' ? 'memory' : 'configmap';
  }

  get key(): string {
    return this.name;
  }

  async enqueue(waiter: Waiter): Promise<void> {
    if (this.#holders.has(waiter.holderKey)) return;
    await this.dequeue(waiter.holderKey);
    // Binary search for the first queued waiter that goes after this one.
    let low = 0;
    let high = this.#queue.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareWaiters(waiter, this.#queue[middle]!) < 0) high = middle;
      else low = middle + 1;
    }
    this.#queue.splice(low, 0, waiter);
    this.#index(waiter.holderKey);
  }

  async dequeue(holderKey: string): Promise<void> {
    if (this.#holders.has(holderKey) || !this.#byWorkflow.get(workflowKeyOf(holderKey))?.has(holderKey)) return;
    const index = this.#queue.findIndex((queued) => queued.holderKey === holderKey);
    if (index >= 0) this.#queue.splice(index, 1);
    this.#unindex(holderKey);
  }

  readLimit(): Promise<number | string> {
    return this.#limit.read();
  }

  async check(holderKey: string, limit: number | string): Promise<LockCheck> {
    if (this.#holders.has(holderKey)) return { status: 'held' };
    const holders = [...this.#holders.keys()].sort();
    if (typeof limit === 'string') return { status: 'waiting', message: missingLimitMessage(this.name, limit), missingLimit: limit, holders };
    const waiting = { status: 'waiting', message: waitingMessage(this.name, limit - this.#holders.size, limit), holders } as const;
    const front = this.#queue[0];
    if (this.#holders.size >= limit) return waiting;
    if (front && !isSameWorkflowNodeKeys(front.holderKey, holderKey)) return { ...waiting, slotFree: true };
    return { status: 'acquirable' };
  }

  async grant(holderKey: string): Promise<Holder> {
    this.#lastToken += 1;
    const holder: Holder = { holderKey, token: this.#lastToken, since: this.clock.now() };
    await this.dequeue(holderKey);
    this.#holders.set(holderKey, holder);
    this.#index(holderKey);
    return holder;
  }

  async release(holderKey: string): Promise<boolean> {
    if (!this.#holders.delete(holderKey)) {
      await this.dequeue(holderKey);
      return false;
    }
    this.#unindex(holderKey);
    return true;
  }

  async reacquire(holderKey: string): Promise<void> {
    if (this.#holders.has(holderKey)) return;
    await this.grant(holderKey);
  }

  /** Memory holds cannot be reclaimed by another controller. */
  async lostHolds(): Promise<string[]> {
    return [];
  }

  async admissible(): Promise<string[]> {
    const limit = await this.#limit.read();
    if (typeof limit === 'string') return [];
    return this.#queue.slice(0, Math.max(limit - this.#holders.size, 0)).map((waiter) => waiter.holderKey);
  }

  async snapshot(): Promise<LockSnapshot> {
    const limit = await this.#limit.read().catch(() => this.#limit.last);
    return {
      name: this.name,
      kind: this.kind,
      storage: this.storage,
      limit: typeof limit === 'number' ? limit : undefined,
      holders: [...this.#holders.values()],
      waiters: [...this.#queue],
    };
  }

  keys(): string[] {
    return [...this.#holders.keys(), ...this.#queue.map((waiter) => waiter.holderKey)];
  }

  keysOf(workflowKey: string): string[] {
    return [...(this.#byWorkflow.get(workflowKey) ?? [])];
  }

  #index(holderKey: string): void {
    const workflowKey = workflowKeyOf(holderKey);
    let keys = this.#byWorkflow.get(workflowKey);
    if (!keys) this.#byWorkflow.set(workflowKey, (keys = new Set()));
    keys.add(holderKey);
  }

  #unindex(holderKey: string): void {
    const workflowKey = workflowKeyOf(holderKey);
    const keys = this.#byWorkflow.get(workflowKey);
    keys?.delete(holderKey);
    if (keys?.size === 0) this.#byWorkflow.delete(workflowKey);
  }
}
