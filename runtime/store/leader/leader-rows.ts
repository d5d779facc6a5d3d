import type { Kysely } from 'kysely';
import type { SqlDatabase } from '../sql-database.js';

interface LeaderTables {
  argosync_leader: { name: string; holder: string; renewed_at: Date; lease_seconds: number };
}

/** A lease as written: who holds it, when they last renewed it, and for how long. */
export interface LeaseRow {
  readonly holder: string;
  readonly renewedAt: Date;
  readonly leaseSeconds: number;
}

/** The rows of `argosync_leader` in the state store, one per named lease. */
export class LeaderRows {
  readonly #db: Kysely<LeaderTables>;

  constructor(database: SqlDatabase) {
    this.#db = database.db as Kysely<LeaderTables>;
  }

  /** Writes `lease` over the row `name` when its holder is the same or it went unrenewed since `expiredBefore`; true when it did. */
  async renewIfHeldOrExpired(name: string, lease: LeaseRow, expiredBefore: Date): Promise<boolean> {
    const updated = await this.#db
      .updateTable('argosync_leader')
      .set({ holder: lease.holder, renewed_at: lease.renewedAt, lease_seconds: lease.leaseSeconds })
      .where('name', '=', name)
      .where((where) => where.or([where('holder', '=', lease.holder), where('renewed_at', '<', expiredBefore)]))
      .executeTakeFirst();
    return updated.numUpdatedRows > 0n;
  }

  /** Inserts the row `name`; rejects when it exists already. */
  async insert(name: string, lease: LeaseRow): Promise<void> {
    await this.#db.insertInto('argosync_leader').values({ name, holder: lease.holder, renewed_at: lease.renewedAt, lease_seconds: lease.leaseSeconds }).execute();
  }

  async exists(name: string): Promise<boolean> {
    return (await this.#db.selectFrom('argosync_leader').select('holder').where('name', '=', name).executeTakeFirst()) !== undefined;
  }

  /** Deletes the row `name` if `holder` holds it. */
  async delete(name: string, holder: string): Promise<void> {
    await this.#db.deleteFrom('argosync_leader').where('name', '=', name).where('holder', '=', holder).execute();
  }
}
