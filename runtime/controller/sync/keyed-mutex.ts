/**
 * Mutual exclusion per lock name within one controller, so check-then-grant is atomic for a lock while
 * acquisitions of unrelated locks run in parallel. Names are taken in sorted order, so two callers that
 * need overlapping sets never deadlock.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async runExclusive<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const releases: (() => void)[] = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.#lock(key));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  async #lock(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.#tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }
}
