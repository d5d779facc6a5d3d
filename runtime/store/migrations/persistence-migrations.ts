import { sql } from 'kysely';
import { InvalidArgumentError } from '../../errors.js';
import type { SqlDatabase } from '../sql-database.js';
import { createIndex, ensureVersionTable, readSchemaVersion } from './migration-runner.js';

export const PERSISTENCE_VERSION_TABLE = 'schema_history';
/** Argo v4.1's last persistence migration step. */
export const PERSISTENCE_SCHEMA_VERSION = 68;

/**
 * The persistence schema in the layout Argo's 69 steps leave behind. A fresh database is created directly in
 * that layout with version 68 recorded (SPEC §4); an older Argo database is refused with what to do, since
 * replaying Argo's historic steps would only matter for databases argosync never wrote.
 */
export async function migratePersistenceSchema(database: SqlDatabase, options: { tableName: string }): Promise<number> {
  return database.engine.withMigrationLock(database.db, 'argosync-migrate-schema_history', async () => {
    await ensureVersionTable(database, PERSISTENCE_VERSION_TABLE);
    const found = await readSchemaVersion(database, PERSISTENCE_VERSION_TABLE);
    if (found >= PERSISTENCE_SCHEMA_VERSION) return found;
    if (found !== -1) {
      throw new InvalidArgumentError(
        `persistence database is at Argo schema version ${found}, argosync needs ${PERSISTENCE_SCHEMA_VERSION}: ` +
          `run an Argo Workflows v4.1 controller against it once to finish its migration, or set persistence.skipMigration`,
      );
    }
    for (const statement of finalLayout(database, options.tableName)) await sql.raw(statement).execute(database.db);
    await sql`update ${sql.table(PERSISTENCE_VERSION_TABLE)} set schema_version = ${PERSISTENCE_SCHEMA_VERSION} where schema_version = -1`.execute(
      database.db,
    );
    return PERSISTENCE_SCHEMA_VERSION;
  });
}

function finalLayout(database: SqlDatabase, offloadTable: string): string[] {
  const workflowJson = database.engine.driver === 'mysql' ? 'json' : 'jsonb';
  const creationNull = database.engine.driver === 'mysql' ? 'not null' : 'null';
  const archived = 'argo_archived_workflows';
  return [
    `create table if not exists ${offloadTable} (clustername varchar(64) not null, uid varchar(128) not null, version varchar(64) not null, namespace varchar(256) not null, nodes json not null, updatedat timestamp not null default current_timestamp, creationtimestamp timestamp null default current_timestamp, primary key (clustername, uid, version))`,
    createIndex(database, { name: `${offloadTable}_i1`, table: offloadTable, columns: 'clustername, namespace, updatedat' }),
    `create table if not exists ${archived} (clustername varchar(64) not null, uid varchar(128) not null, instanceid varchar(64) not null, name varchar(256) not null, namespace varchar(256) not null, phase varchar(25) not null, workflow ${workflowJson} not null, startedat timestamp not null default current_timestamp, finishedat timestamp not null default current_timestamp, creationtimestamp timestamp ${creationNull} default current_timestamp, primary key (clustername, uid))`,
    createIndex(database, { name: `${archived}_i1`, table: archived, columns: 'clustername, instanceid, namespace, startedat desc' }),
    createIndex(database, { name: `${archived}_i2`, table: archived, columns: 'clustername, instanceid, finishedat' }),
    createIndex(database, { name: `${archived}_i3`, table: archived, columns: 'clustername, instanceid, name' }),
    createIndex(database, { name: `${archived}_i4`, table: archived, columns: 'clustername, startedat' }),
    createIndex(database, { name: `${archived}_i5`, table: archived, columns: 'creationtimestamp' }),
    `create table if not exists ${archived}_labels (clustername varchar(64) not null, uid varchar(128) not null, name varchar(317) not null, value varchar(63) not null, primary key (clustername, uid, name), foreign key (clustername, uid) references ${archived}(clustername, uid) on delete cascade)`,
    createIndex(database, { name: `${archived}_labels_i1`, table: `${archived}_labels`, columns: 'name, value' }),
  ];
}
