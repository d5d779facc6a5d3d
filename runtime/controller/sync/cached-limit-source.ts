import type { Clock } from '../../clock.js';
import type { LimitReading, LimitSource } from './limit-source.js';

/**
 * `semaphoreLimitCacheSeconds` as Argo applies it: re-read once the reading is `ttlMs` old (0 = every time);
 * when a re-read fails, fall back to the last good reading and retry on the next call.
 */
export class CachedLimitSource implements LimitSource {
  #last: { reading: LimitReading; at: number } | undefined;

  constructor(
    private readonly source: LimitSource,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  async read(): Promise<LimitReading> {
    const now = this.clock.now();
    if (this.#last && now - this.#last.at < this.ttlMs) return this.#last.reading;
    try {
      const reading = await this.source.read();
      this.#last = { reading, at: now };
      return reading;
    } catch (error) {
      if (this.#last) return this.#last.reading;
      throw error;
    }
  }

  /** Forgets the cached reading, e.g. when a watch reports the ConfigMap changed. */
  invalidate(): void {
    if (this.#last) this.#last = { reading: this.#last.reading, at: Number.NEGATIVE_INFINITY };
  }
}
