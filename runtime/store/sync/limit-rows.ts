import type { SyncSchema } from './sync-schema.js';

/** A `sync_limit` row: `name` is `<ns>/<key>` (SPEC §2). */
export interface LimitRow {
  readonly name: string;
  readonly limit: number;
}

/** The rows of `sync_limit`: read by database semaphores, written by the sync API and operators. */
export class LimitRows {
  constructor(private readonly schema: SyncSchema) {}

  /** The size of `name`: undefined when there is no row, null when the row has no size. */
  async read(name: string): Promise<number | null | undefined> {
    const row = await this.schema.db.selectFrom(this.schema.tables.limit).select('sizelimit').where('name', '=', name).executeTakeFirst();
    return row && (row.sizelimit === null ? null : Number(row.sizelimit));
  }

  /** Inserts the row; false when a row of that name exists already. */
  async insert(row: LimitRow): Promise<boolean> {
    try {
      await this.schema.db.insertInto(this.schema.tables.limit).values({ name: row.name, sizelimit: row.limit }).execute();
      return true;
    } catch (error) {
      if (this.schema.engine.isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async update(row: LimitRow): Promise<void> {
    await this.schema.db.updateTable(this.schema.tables.limit).set({ sizelimit: row.limit }).where('name', '=', row.name).execute();
  }

  async delete(name: string): Promise<void> {
    await this.schema.db.deleteFrom(this.schema.tables.limit).where('name', '=', name).execute();
  }

  /** Rows whose name starts with `prefix`, by name; a null size reads as 0. */
  async list(prefix: string): Promise<LimitRow[]> {
    const rows = await this.schema.db
      .selectFrom(this.schema.tables.limit)
      .select(['name', 'sizelimit'])
      .where('name', 'like', `${prefix.replace(/[\\%_]/g, '\\$&')}%`)
      .orderBy('name')
      .execute();
    return rows.map((row) => ({ name: row.name, limit: Number(row.sizelimit ?? 0) }));
  }
}
