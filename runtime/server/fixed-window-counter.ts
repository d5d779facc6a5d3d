import type { Clock } from '../clock.js';

/** The outcome of taking one request from a key's window. */
export interface WindowTake {
  readonly allowed: boolean;
  readonly limit: number;
  /** Requests left in the window after this one (never negative). */
  readonly remaining: number;
  /** Epoch milliseconds at which the window ends and the full limit is available again. */
  readonly resetAt: number;
}

export interface FixedWindowCounterOptions {
  readonly limit: number;
  readonly windowMs: number;
  readonly clock: Clock;
  /** Most keys tracked at once; past it the oldest window is forgotten (its key starts afresh). */
  readonly maxKeys?: number;
}

interface Window {
  readonly startedAt: number;
  count: number;
}

/**
 * A fixed-window request counter per key, as Argo's `go-limiter` store: a key's window opens at its
 * first request and admits `limit` requests until `windowMs` later.
 *
 * Memory stays bounded: windows are kept in a Map in the order they opened, and since all windows
 * have the same length, the expired ones are always a prefix of that order, so each call evicts them
 * from the front in O(expired).
 */
export class FixedWindowCounter {
  readonly #options: Required<FixedWindowCounterOptions>;
  readonly #windows = new Map<string, Window>();

  constructor(options: FixedWindowCounterOptions) {
    this.#options = { maxKeys: 100_000, ...options };
  }

  take(key: string): WindowTake {
    return this.#count(key, 1);
  }

  /** The key's window as `take` reports it, without counting a request (requests that are not rate limited). */
  peek(key: string): WindowTake {
    return this.#count(key, 0);
  }

  #count(key: string, requests: 0 | 1): WindowTake {
    const { limit, windowMs, clock, maxKeys } = this.#options;
    const now = clock.now();
    this.#evictExpired(now);
    let window = this.#windows.get(key);
    if (window === undefined) {
      if (this.#windows.size >= maxKeys) this.#windows.delete(this.#windows.keys().next().value as string);
      window = { startedAt: now, count: 0 };
      this.#windows.set(key, window);
    }
    window.count += requests;
    return {
      allowed: window.count <= limit,
      limit,
      remaining: Math.max(0, limit - window.count),
      resetAt: window.startedAt + windowMs,
    };
  }

  /** Number of keys with an open window (for tests and metrics). */
  get size(): number {
    return this.#windows.size;
  }

  #evictExpired(now: number): void {
    for (const [key, window] of this.#windows) {
      if (window.startedAt + this.#options.windowMs > now) return;
      this.#windows.delete(key);
    }
  }
}
