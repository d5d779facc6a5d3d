/** Where the lease lives: a database row or a Kubernetes Lease. */
export interface LeaseLock {
  /** Where, for messages, e.g. `database row argosync_leader/argosync-controller`. */
  readonly description: string;
  /**
   * Takes the lease when it is free or expired, or renews it when `identity` holds it; false when another
   * holder's lease is still valid. Throws when the store cannot be reached.
   */
  tryAcquireOrRenew(identity: string, leaseMs: number): Promise<boolean>;
  /** Gives the lease up at once (graceful shutdown) when `identity` still holds it. */
  release(identity: string): Promise<void>;
}

export interface LeaderElectionOptions {
  readonly lock: LeaseLock;
  readonly identity: string;
  /** `LEADER_ELECTION_LEASE_DURATION`: how long a lease is valid without renewal. */
  readonly leaseMs: number;
  /** `LEADER_ELECTION_RENEW_DEADLINE`: how long a leader keeps leading while renewals fail with errors. */
  readonly renewDeadlineMs: number;
  /** `LEADER_ELECTION_RETRY_PERIOD`: how often the lease is tried or renewed. */
  readonly retryPeriodMs: number;
  readonly onStartedLeading: () => Promise<void>;
  readonly onStoppedLeading: () => Promise<void>;
  readonly say: (line: string) => void;
}

/**
 * One active controller per store (SPEC §6), as client-go's leader election: every replica tries the lease each
 * retry period; the holder renews it; a standby takes it once it has gone unrenewed for the lease duration. A
 * leader that sees another holder stops at once; one that cannot reach the store stops after the renew deadline.
 */
export class LeaderElection {
  readonly #options: LeaderElectionOptions;
  #leading = false;
  #lastRenewal = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Transitions run one at a time, so a quick lose-and-win never overlaps a stop with a start. */
  #transition: Promise<void> = Promise.resolve();

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Tries once (so a lone replica leads before this resolves), then keeps trying every retry period. */
  async start(): Promise<void> {
    await this.#tick();
    if (!this.#leading) this.#options.say(`standing by: ${this.#options.lock.description} is held by another controller`);
    this.#schedule();
  }

  /** Stops leading and gives the lease up so that a standby takes over without waiting for it to expire. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#transition;
    if (!this.#leading) return;
    this.#leading = false;
    await this.#options.onStoppedLeading();
    await this.#options.lock.release(this.#options.identity).catch(() => undefined);
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      void this.#tick().finally(() => {
        if (!this.#stopped) this.#schedule();
      });
    }, this.#options.retryPeriodMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    const { lock, identity, leaseMs, renewDeadlineMs, say } = this.#options;
    let held: boolean | undefined;
    try {
      held = await lock.tryAcquireOrRenew(identity, leaseMs);
    } catch (error) {
      if (this.#leading) say(`could not renew the leader lease on ${lock.description}: ${(error as Error).message}`);
    }
    if (this.#stopped) return;
    if (held) {
      this.#lastRenewal = Date.now();
      if (!this.#leading) await this.#change(true, `elected leader (${identity}) on ${lock.description}`);
    } else if (this.#leading && (held === false || Date.now() - this.#lastRenewal >= renewDeadlineMs)) {
      await this.#change(false, `lost the leader lease on ${lock.description}; standing by`);
    }
  }

  #change(leading: boolean, message: string): Promise<void> {
    this.#leading = leading;
    this.#options.say(message);
    const { onStartedLeading, onStoppedLeading, say } = this.#options;
    this.#transition = this.#transition
      .then(leading ? onStartedLeading : onStoppedLeading)
      .catch((error: unknown) => say(`leader election: ${(error as Error).message}`));
    return this.#transition;
  }
}
