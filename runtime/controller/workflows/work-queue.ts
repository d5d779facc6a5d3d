/**
 * The controller's queue of workflow keys (Argo's rate-limited workqueue, without the rate limit): a key is
 * processed by one worker at a time, adding a key that waits is a no-op, and adding one being processed
 * processes it again afterwards.
 */
export class WorkQueue {
  readonly #process: (key: string) => Promise<void>;
  readonly #workers: number;
  readonly #waiting = new Set<string>();
  readonly #active = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #idle = new Set<() => void>();
  #running = 0;
  #stopped = false;

  constructor(process: (key: string) => Promise<void>, workers = 4) {
    this.#process = process;
    this.#workers = workers;
  }

  add(key: string): void {
    if (this.#stopped) return;
    if (this.#active.has(key)) this.#dirty.add(key);
    else this.#waiting.add(key);
    this.#pump();
  }

  /** Adds the key after `ms` (deadlines, suspend durations, retries); an earlier pending timer for the key wins. */
  addAfter(key: string, ms: number): void {
    if (this.#stopped) return;
    const existing = this.#timers.get(key);
    if (existing) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, Math.max(0, ms));
    timer.unref();
    this.#timers.set(key, timer);
  }

  /** Resolves once nothing is waiting or being processed. */
  drained(): Promise<void> {
    if (this.#running === 0 && this.#waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#waiting.clear();
  }

  #pump(): void {
    while (this.#running < this.#workers && this.#waiting.size > 0) {
      const key = this.#waiting.values().next().value as string;
      this.#waiting.delete(key);
      this.#active.add(key);
      this.#running += 1;
      void this.#process(key).finally(() => {
        this.#active.delete(key);
        this.#running -= 1;
        if (this.#dirty.delete(key)) this.add(key);
        this.#pump();
        if (this.#running === 0 && this.#waiting.size === 0) {
          for (const resolve of this.#idle) resolve();
          this.#idle.clear();
        }
      });
    }
  }
}
