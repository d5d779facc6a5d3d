import type { SqlDatabase } from '../../store/sql-database.js';
import { LeaderRows } from '../../store/leader/leader-rows.js';
import type { LeaseLock } from './leader-election.js';

/**
 * The lease as a row of `argosync_leader` in the state store: taking or renewing it is one conditional update
 * (holder is us, or the row went unrenewed for its lease), so two replicas can never both succeed.
 */
export class DatabaseLeaseLock implements LeaseLock {
  readonly description: string;
  readonly #rows: LeaderRows;
  readonly #name: string;

  constructor(database: SqlDatabase, name: string) {
    this.#rows = new LeaderRows(database);
    this.#name = name;
    this.description = `database row argosync_leader/${name} (${database.description})`;
  }

  async tryAcquireOrRenew(identity: string, leaseMs: number): Promise<boolean> {
    const now = new Date();
    const lease = { holder: identity, renewedAt: now, leaseSeconds: Math.ceil(leaseMs / 1000) };
    if (await this.#rows.renewIfHeldOrExpired(this.#name, lease, new Date(now.getTime() - leaseMs))) return true;
    try {
      await this.#rows.insert(this.#name, lease);
      return true;
    } catch (error) {
      // Another replica holds the row (or inserted it first): not ours.
      if (await this.#rows.exists(this.#name)) return false;
      throw error;
    }
  }

  async release(identity: string): Promise<void> {
    await this.#rows.delete(this.#name, identity);
  }
}
