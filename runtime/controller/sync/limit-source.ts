/** A semaphore's size as read from where it is stored. */
export type LimitReading =
  | { readonly limit: number }
  /** The limit does not exist: `missing` says which piece (ConfigMap, key or row) and how to create it. */
  | { readonly missing: string };

/**
 * Where a semaphore's limit comes from: a ConfigMap key, a `sync_limit` row, or a fixed 1 for mutexes.
 * `cached-limit-source.ts` decorates any source with `semaphoreLimitCacheSeconds`.
 */
export interface LimitSource {
  /** Reads the current limit. Throws only on transport errors (unreachable store), never for a missing limit. */
  read(): Promise<LimitReading>;
}
