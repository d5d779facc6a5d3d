/** A semaphore's size as read from where it is stored. */
export type LimitReading =
  | { readonly limit: number }
  /** No usable limit: `problem` says which piece (ConfigMap, key, row, value) is missing or wrong and how to fix it. */
  | { readonly problem: string };

/**
 * Where a semaphore's limit comes from: a ConfigMap key, a `sync_limit` row, or a fixed 1 for mutexes.
 * `CachedLimitSource` decorates any source with `semaphoreLimitCacheSeconds`.
 */
export interface LimitSource {
  /** Reads the current limit. Throws only on transport errors (unreachable store), never for a missing limit. */
  read(): Promise<LimitReading>;
}

/** A mutex: a lock whose limit is always 1. */
export const MUTEX_LIMIT: LimitSource = { read: async () => ({ limit: 1 }) };

/**
 * Reads a lock's limit for its checks: a usable limit as a number, or the problem as text (missing limit,
 * limit ≤ 0). When the source cannot be reached it falls back to the last good limit, so a flaky store never
 * leaks or invents slots (Argo's rule); with no earlier limit the error propagates.
 */
export class LimitTracker {
  #last: number | undefined;

  constructor(private readonly source: LimitSource) {}

  /** The last usable limit read, if any. */
  get last(): number | undefined {
    return this.#last;
  }

  async read(): Promise<number | string> {
    let reading: LimitReading;
    try {
      reading = await this.source.read();
    } catch (error) {
      if (this.#last === undefined) throw error;
      return this.#last;
    }
    return this.accept(reading);
  }

  /** Takes a reading made elsewhere (an acquisition call that read the limit itself) as `read` takes its own. */
  accept(reading: LimitReading): number | string {
    if ('problem' in reading) return reading.problem;
    if (reading.limit <= 0) return `its limit is ${reading.limit}; raise it above zero to admit workflows`;
    this.#last = reading.limit;
    return reading.limit;
  }
}
