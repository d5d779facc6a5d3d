import { sql } from 'kysely';
import type { Driver } from '../connection-spec.js';
import type { SyncSchema } from './sync-schema.js';

/**
 * Engines that keep deleted and updated rows until a VACUUM: PostgreSQL (whose autovacuum may be off, or too
 * slow for tables churned hundreds of times a second) and PGlite (which has no background workers at all).
 * InnoDB purges by itself.
 */
const KEEPS_DEAD_ROWS: Record<Driver, boolean> = { postgresql: true, pglite: true, mysql: false };

/**
 * The sync tables are churn tables: every acquisition writes and deletes a guard row, and every grant and
 * release writes and deletes a hold and a grant record. Their dead rows slow every later acquisition until a
 * VACUUM removes them.
 */
export class TableVacuum {
  readonly #tables: readonly string[];

  constructor(private readonly schema: SyncSchema) {
    const { state, lock, controller, limit } = schema.tables;
    this.#tables = [state, lock, 'argosync_sync_grant', 'argosync_sync_fence', controller, limit];
  }

  /** Whether the engine needs it (false on MySQL, where `run` does nothing). */
  get needed(): boolean {
    return KEEPS_DEAD_ROWS[this.schema.engine.driver];
  }

  /**
   * VACUUMs the sync tables this database user may vacuum, and returns their names. SKIP_LOCKED passes over
   * a table another session is vacuuming (another controller) rather than queueing behind it. Never called
   * inside a transaction: VACUUM refuses to run in one, and here it takes a connection of its own (on PGlite,
   * the single session once no transaction holds it).
   */
  async run(): Promise<string[]> {
    if (!this.needed) return [];
    const { db } = this.schema;
    // PostgreSQL skips a table this user may not vacuum with a WARNING, which would reach the server's log at
    // every round. Up to PostgreSQL 16 the tables' owner (a superuser is a member of every role) and the
    // database's owner may; from 17 on, also a holder of MAINTAIN, a privilege older servers reject by name
    // (hence the CASE: OR evaluates its operands in no set order).
    const { rows } = await sql<{ name: string }>`
      select t.name from unnest(cast(${this.#tables} as text[])) as t(name) join pg_class c on c.oid = to_regclass(t.name)
      where pg_has_role(c.relowner, 'USAGE')
        or pg_has_role((select datdba from pg_database where datname = current_database()), 'USAGE')
        or case when current_setting('server_version_num')::int >= 170000 then has_table_privilege(c.oid, 'MAINTAIN') else false end`.execute(db);
    const tables = rows.map((row) => row.name);
    if (tables.length > 0) await sql`vacuum (skip_locked) ${sql.join(tables.map((table) => sql.table(table)))}`.execute(db);
    return tables;
  }
}
