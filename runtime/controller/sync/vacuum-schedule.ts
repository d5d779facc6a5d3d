import type { Clock } from '../../clock.js';

/** How often a controller vacuums the sync tables, from its own writes. */
export interface VacuumPolicy {
  /** This controller's writes (acquisition attempts, releases, queue rows) between two vacuums. */
  readonly afterWrites: number;
  /** The shortest time between the starts of two vacuums, ms. */
  readonly minIntervalMs: number;
}

/**
 * Measured on the 2-core development machine (serial acquire+release cycles on one semaphore): a VACUUM of the six
 * tables takes about 1 ms on PostgreSQL 15 when they are clean, and with the dead rows of 1,000 cycles 4-6 ms
 * there and 8 ms on PGlite (whose single session it holds meanwhile); each cycle of backlog adds up to 0.03 µs to
 * every later cycle (pgbench: 0.38 → 1.04 ms over 20,000 cycles) and 0.1-0.3 kB to the tables. The sum of both
 * costs is least near 1,000 writes and within 0.01 ms a cycle of that at 2,000 (about 0.005 ms a cycle for the
 * vacuum itself). The floor keeps a vacuum from starting more than once a second: a few ms of the database's time
 * a second at most, which only a controller writing more than 2,000 times a second reaches.
 */
export const DEFAULT_VACUUM_POLICY: VacuumPolicy = { afterWrites: 2000, minIntervalMs: 1000 };

/**
 * Runs `vacuum` in the background, one at a time, once this controller has written `afterWrites` times since
 * the last one began and `minIntervalMs` have passed: an idle controller never vacuums. A failure goes to
 * `onError` and the count starts again, so it is retried after as many writes; it never reaches a workflow.
 */
export class VacuumSchedule {
  #writes = 0;
  #lastStart = Number.NEGATIVE_INFINITY;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    private readonly vacuum: () => Promise<unknown>,
    private readonly clock: Clock,
    private readonly policy: VacuumPolicy,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Counts one committed write, and starts a vacuum if one is due. */
  wrote(): void {
    this.#writes += 1;
    this.startIfDue();
  }

  /** Starts a vacuum if one is due (also called periodically: writes may stop before the time floor has passed). */
  startIfDue(): void {
    if (this.#stopped || this.#running || this.#writes < this.policy.afterWrites) return;
    const now = this.clock.now();
    if (now - this.#lastStart < this.policy.minIntervalMs) return;
    this.#writes = 0;
    this.#lastStart = now;
    // Not awaited by the write that made it due. Not deferred to a macrotask either: PGlite answers through
    // microtasks, so a busy serial loop of acquisitions would never let one run.
    this.#running = Promise.resolve()
      .then(() => this.vacuum())
      .then(
        () => undefined,
        (error: unknown) => this.onError(error),
      )
      .finally(() => (this.#running = undefined));
  }

  /** Starts no more vacuums, and resolves once the one under way (if any) has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }
}
