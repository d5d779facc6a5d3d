/**
 * Sizes of `sync_limit` rows for a database that only this process can write (embedded PGlite: one process owns
 * its data directory). Every write goes through `write`, so a cached size is never older than the row: the cache
 * is exact, unlike `semaphoreLimitCacheSeconds`, and a write is seen by the next read. A read that overlaps a
 * write is returned but not kept. Only existing rows are kept, so probing for missing keys cannot grow it.
 */
export class LimitReadCache {
  readonly #sizes = new Map<string, number | null>();
  #writes = 0;

  async read(name: string, load: () => Promise<number | null | undefined>): Promise<number | null | undefined> {
    if (this.#sizes.has(name)) return this.#sizes.get(name);
    const writesBefore = this.#writes;
    const size = await load();
    if (size !== undefined && this.#writes === writesBefore) this.#sizes.set(name, size);
    return size;
  }

  async write<T>(name: string, change: () => Promise<T>): Promise<T> {
    this.#forget(name);
    try {
      return await change();
    } finally {
      this.#forget(name);
    }
  }

  #forget(name: string): void {
    this.#writes += 1;
    this.#sizes.delete(name);
  }
}
