import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { migrateArgosyncSchema } from '../../runtime/store/migrations/argosync-migrations.js';
import { migratePersistenceSchema, PERSISTENCE_SCHEMA_VERSION } from '../../runtime/store/migrations/persistence-migrations.js';
import { migrateSyncSchema, syncSchemaSteps } from '../../runtime/store/migrations/sync-migrations.js';
import { readSchemaVersion } from '../../runtime/store/migrations/migration-runner.js';
import type { SqlDatabase } from '../../runtime/store/sql-database.js';
import { createTestDatabase, describeEachDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';

async function indexNames(database: SqlDatabase, table: string): Promise<string[]> {
  const query =
    database.engine.driver === 'mysql'
      ? sql<{ name: string }>`select distinct index_name as name from information_schema.statistics where table_schema = database() and table_name = ${table}`
      : sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = current_schema() and tablename = ${table}`;
  const rows = await query.execute(database.db);
  return rows.rows.map((row) => row.name).filter((name) => name !== 'PRIMARY' && !name.endsWith('_pkey')).sort();
}

async function versionRows(database: SqlDatabase, table: string): Promise<number[]> {
  const rows = await sql<{ v: number }>`select schema_version as v from ${sql.table(table)}`.execute(database.db);
  return rows.rows.map((row) => Number(row.v));
}

describeEachDatabase(DIALECTS)('migrations on %s', (driver) => {
  let testDatabase: TestDatabase;
  let database: SqlDatabase;

  beforeEach(async () => {
    testDatabase = await createTestDatabase(driver);
    database = await testDatabase.open();
  });
  afterEach(() => testDatabase.drop());

  it('creates the sync schema as Argo does and records version 10 in sync_schema_history', async () => {
    expect(await migrateSyncSchema(database)).toBe(10);
    expect(await versionRows(database, 'sync_schema_history')).toEqual([10]);
    expect(await indexNames(database, 'sync_limit')).toEqual(['ilimit_name']);
    expect(await indexNames(database, 'sync_controller')).toEqual(['icontroller_name']);
    expect(await indexNames(database, 'sync_state')).toEqual(['istate_controller', 'istate_held', 'istate_name', 'istate_workflowkey']);
    expect(await indexNames(database, 'sync_lock')).toEqual(['ilock_name']);
    // Running again changes nothing.
    expect(await migrateSyncSchema(database)).toBe(10);
    expect(await versionRows(database, 'sync_schema_history')).toEqual([10]);
  });

  it('uses custom table names but keeps Argo index names', async () => {
    const tables = { limitTableName: 'my_limit', stateTableName: 'my_state', controllerTableName: 'my_controller', lockTableName: 'my_lock' };
    expect(await migrateSyncSchema(database, tables)).toBe(10);
    expect(await indexNames(database, 'my_limit')).toEqual(['ilimit_name']);
    await sql`insert into my_limit (name, sizelimit) values ('ns/key', 3)`.execute(database.db);
  });

  it('is safe when two processes migrate at the same moment', async () => {
    const other = await testDatabase.open();
    const results = await Promise.all([migrateSyncSchema(database), migrateSyncSchema(other), migrateArgosyncSchema(database), migrateArgosyncSchema(other)]);
    expect(results).toEqual([10, 10, 8, 8]);
    expect(await versionRows(database, 'sync_schema_history')).toEqual([10]);
  });

  it('finishes a database Argo migrated half-way, applying only the missing steps', async () => {
    // What an Argo controller interrupted after step 4 leaves behind, replayed by hand.
    await sql`create table sync_schema_history (schema_version int not null, primary key(schema_version))`.execute(database.db);
    await sql`insert into sync_schema_history values (4)`.execute(database.db);
    for (const statement of syncSchemaSteps().slice(0, 5)) await sql.raw(statement).execute(database.db);
    await sql`insert into sync_limit (name, sizelimit) values ('argo/kept', 7)`.execute(database.db);

    expect(await migrateSyncSchema(database)).toBe(10);
    expect(await indexNames(database, 'sync_lock')).toEqual(['ilock_name']);
    const kept = await sql<{ sizelimit: number }>`select sizelimit from sync_limit where name = 'argo/kept'`.execute(database.db);
    expect(kept.rows).toEqual([{ sizelimit: 7 }]);
  });

  it('leaves a database at a newer version alone', async () => {
    await sql`create table sync_schema_history (schema_version int not null, primary key(schema_version))`.execute(database.db);
    await sql`insert into sync_schema_history values (11)`.execute(database.db);
    expect(await migrateSyncSchema(database)).toBe(11);
    expect(await versionRows(database, 'sync_schema_history')).toEqual([11]);
  });

  it('creates the persistence schema in Argo v4.1 final layout at version 68', async () => {
    expect(await migratePersistenceSchema(database, { tableName: 'argo_workflows' })).toBe(PERSISTENCE_SCHEMA_VERSION);
    expect(await readSchemaVersion(database, 'schema_history')).toBe(68);
    expect(await indexNames(database, 'argo_workflows')).toEqual(['argo_workflows_i1']);
    expect(await indexNames(database, 'argo_archived_workflows')).toEqual(
      expect.arrayContaining(['argo_archived_workflows_i1', 'argo_archived_workflows_i2', 'argo_archived_workflows_i3', 'argo_archived_workflows_i4', 'argo_archived_workflows_i5']),
    );
    await sql`insert into argo_workflows (clustername, uid, version, namespace, nodes) values ('default', 'u1', 'fnv:784127654', 'ns', 'null')`.execute(database.db);
    expect(await migratePersistenceSchema(database, { tableName: 'argo_workflows' })).toBe(68);
  });

  it('refuses a persistence database at an older Argo version and says what to do', async () => {
    await sql`create table schema_history (schema_version int not null, primary key(schema_version))`.execute(database.db);
    await sql`insert into schema_history values (40)`.execute(database.db);
    await expect(migratePersistenceSchema(database, { tableName: 'argo_workflows' })).rejects.toThrow(
      'persistence database is at Argo schema version 40, argosync needs 68: run an Argo Workflows v4.1 controller against it once to finish its migration, or set persistence.skipMigration',
    );
  });
});
