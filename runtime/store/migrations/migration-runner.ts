import { sql } from 'kysely';
import type { SqlDatabase } from '../sql-database.js';

/**
 * Argo's migration framework (`util/sqldb/migrate.go`): a one-row version table starting at -1, and step i
 * applied in its own transaction only when `schema_version` moves from i-1 to i. Another process migrating
 * at the same moment waits on the engine's migration lock, then finds nothing left to do.
 */
export async function applySteps(database: SqlDatabase, versionTable: string, steps: readonly string[]): Promise<number> {
  return database.engine.withMigrationLock(database.db, `argosync-migrate-${versionTable}`, async () => {
    await ensureVersionTable(database, versionTable);
    for (let version = 0; version < steps.length; version += 1) {
      await database.db.transaction().execute(async (tx) => {
        const moved = await sql`update ${sql.table(versionTable)} set schema_version = ${version} where schema_version = ${version - 1}`.execute(tx);
        if (Number(moved.numAffectedRows ?? 0) === 1) await sql.raw(steps[version]!).execute(tx);
      });
    }
    return readSchemaVersion(database, versionTable);
  });
}

export async function ensureVersionTable(database: SqlDatabase, versionTable: string): Promise<void> {
  await sql`create table if not exists ${sql.table(versionTable)} (schema_version int not null, primary key(schema_version))`.execute(database.db);
  const rows = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(versionTable)}`.execute(database.db);
  if (Number(rows.rows[0]?.n) === 0) await sql`insert into ${sql.table(versionTable)} (schema_version) values (-1)`.execute(database.db);
}

/** The recorded version, or undefined when the version table does not exist. */
export async function readSchemaVersion(database: SqlDatabase, versionTable: string): Promise<number> {
  const rows = await sql<{ v: number | null }>`select max(schema_version) as v from ${sql.table(versionTable)}`.execute(database.db);
  return Number(rows.rows[0]?.v ?? -1);
}

/** `create index` with the name kept as Argo spells it; MySQL lacks `if not exists`, so steps guard by version instead. */
export function createIndex(database: SqlDatabase, options: { unique?: boolean; name: string; table: string; columns: string }): string {
  const ifNotExists = database.engine.supportsIndexIfNotExists ? 'if not exists ' : '';
  return `create ${options.unique ? 'unique ' : ''}index ${ifNotExists}${options.name} on ${options.table} (${options.columns})`;
}
