import type { Clock } from '../../runtime/clock.js';

/** A clock that moves only when told, and lets a test await the next `schedule` call. */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 0;
  readonly #timers = new Map<number, { readonly at: number; readonly fn: () => void }>();
  #onSchedule: (() => void)[] = [];

  constructor(start = Date.UTC(2026, 0, 5, 10, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  schedule(ms: number, fn: () => void): () => void {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + ms, fn });
    const waiting = this.#onSchedule;
    this.#onSchedule = [];
    for (const wake of waiting) wake();
    return () => this.#timers.delete(id);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(ms, resolve));
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Resolves at the next `schedule` call. */
  nextSchedule(): Promise<void> {
    return new Promise((resolve) => this.#onSchedule.push(resolve));
  }

  /** Moves time forward, running every timer that falls due, in order. */
  advance(ms: number): void {
    this.#now += ms;
    const due = [...this.#timers.entries()].filter(([, timer]) => timer.at <= this.#now).sort(([, a], [, b]) => a.at - b.at);
    for (const [id, timer] of due) {
      this.#timers.delete(id);
      timer.fn();
    }
  }
}
