import { liveControllers, type SyncSchema } from './sync-schema.js';

/** A controller's heartbeat row. */
export interface ControllerRow {
  readonly name: string;
  readonly lastHeartbeat: Date | null;
}

/** `sync_controller` heartbeats, and the rows of controllers whose heartbeat stopped (argo-reference §5.3). */
export class ControllerRows {
  constructor(private readonly schema: SyncSchema) {}

  /** Every controller with its last heartbeat, by name. */
  async list(): Promise<ControllerRow[]> {
    const rows = await this.schema.db.selectFrom(this.schema.tables.controller).select(['controller', 'time']).orderBy('controller').execute();
    return rows.map((row) => ({ name: row.controller, lastHeartbeat: row.time }));
  }

  /**
   * Sets `controller`'s heartbeat to `now`, inserting the row when missing; returns the previous heartbeat
   * (undefined without a row), so the caller can tell it was declared inactive.
   */
  async beat(controller: string, now: Date): Promise<Date | null | undefined> {
    const { db, tables, engine } = this.schema;
    const previous = await db.selectFrom(tables.controller).select('time').where('controller', '=', controller).executeTakeFirst();
    if (previous) {
      await db.updateTable(tables.controller).set({ time: now }).where('controller', '=', controller).execute();
      return previous.time;
    }
    await db
      .insertInto(tables.controller)
      .values({ controller, time: now })
      .execute()
      .catch((error: unknown) => {
        if (!engine.isUniqueViolation(error)) throw error;
      });
    return undefined;
  }

  /** Guard rows `controller` left behind when it died mid-acquisition. */
  async clearGuardsOf(controller: string): Promise<void> {
    await this.schema.db.deleteFrom(this.schema.tables.lock).where('controller', '=', controller).execute();
  }

  /** Argo's ExpireInactiveLocks: guard rows of controllers whose heartbeat is not newer than `cutoff`. */
  async expireInactiveGuards(cutoff: Date): Promise<void> {
    const { db, tables } = this.schema;
    await db.deleteFrom(tables.lock).where('controller', 'not in', liveControllers(this.schema, db, cutoff)).execute();
  }

  /** SPEC §5 "no leaked holds": deletes the holds (and grant records) of controllers inactive since `cutoff`; returns the locks that lost any. */
  async reclaimInactiveHolds(cutoff: Date): Promise<string[]> {
    const { db, tables } = this.schema;
    const live = liveControllers(this.schema, db, cutoff);
    const reclaimed = await db.selectFrom(tables.state).select('name').distinct().where('held', '=', true).where('controller', 'not in', live).execute();
    if (reclaimed.length > 0) {
      await db.deleteFrom(tables.state).where('held', '=', true).where('controller', 'not in', live).execute();
      await db.deleteFrom('argosync_sync_grant').where('controller', 'not in', live).execute();
    }
    return reclaimed.map((row) => row.name);
  }

  /** Every hold and queue row of `controller`, as lock row name and holder key. */
  async rowsOf(controller: string): Promise<{ lockKey: string; holderKey: string; held: boolean }[]> {
    const rows = await this.schema.db.selectFrom(this.schema.tables.state).select(['name', 'workflowkey', 'held']).where('controller', '=', controller).execute();
    return rows.map((row) => ({ lockKey: row.name, holderKey: row.workflowkey, held: Boolean(row.held) }));
  }
}
