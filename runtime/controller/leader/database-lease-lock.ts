import type { Kysely } from 'kysely';
import type { SqlDatabase } from '../../store/sql-database.js';
import type { LeaseLock } from './leader-election.js';

interface LeaderTables {
  argosync_leader: { name: string; holder: string; renewed_at: Date; lease_seconds: number };
}

/**
 * The lease as a row of `argosync_leader` in the state store: taking or renewing it is one conditional update
 * (holder is us, or the row went unrenewed for its lease), so two replicas can never both succeed.
 */
export class DatabaseLeaseLock implements LeaseLock {
  readonly description: string;
  readonly #db: Kysely<LeaderTables>;
  readonly #name: string;

  constructor(database: SqlDatabase, name: string) {
    this.#db = database.db as Kysely<LeaderTables>;
    this.#name = name;
    this.description = `database row argosync_leader/${name} (${database.description})`;
  }

  async tryAcquireOrRenew(identity: string, leaseMs: number): Promise<boolean> {
    const now = new Date();
    const expiredBefore = new Date(now.getTime() - leaseMs);
    const leaseSeconds = Math.ceil(leaseMs / 1000);
    const updated = await this.#db
      .updateTable('argosync_leader')
      .set({ holder: identity, renewed_at: now, lease_seconds: leaseSeconds })
      .where('name', '=', this.#name)
      .where((where) => where.or([where('holder', '=', identity), where('renewed_at', '<', expiredBefore)]))
      .executeTakeFirst();
    if (updated.numUpdatedRows > 0n) return true;
    try {
      await this.#db.insertInto('argosync_leader').values({ name: this.#name, holder: identity, renewed_at: now, lease_seconds: leaseSeconds }).execute();
      return true;
    } catch (error) {
      // Another replica holds the row (or inserted it first): not ours.
      if (await this.#exists()) return false;
      throw error;
    }
  }

  async release(identity: string): Promise<void> {
    await this.#db.deleteFrom('argosync_leader').where('name', '=', this.#name).where('holder', '=', identity).execute();
  }

  async #exists(): Promise<boolean> {
    return (await this.#db.selectFrom('argosync_leader').select('holder').where('name', '=', this.#name).executeTakeFirst()) !== undefined;
  }
}
