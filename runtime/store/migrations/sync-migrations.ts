import type { SqlDatabase } from '../sql-database.js';
import { applySteps } from './migration-runner.js';

/** Table names of the sync schema (`synchronization.*TableName`); the version table name is fixed, as in Argo. */
export interface SyncTableNames {
  readonly limitTableName: string;
  readonly stateTableName: string;
  readonly controllerTableName: string;
  readonly lockTableName: string;
}

export const DEFAULT_SYNC_TABLES: SyncTableNames = {
  limitTableName: 'sync_limit',
  stateTableName: 'sync_state',
  controllerTableName: 'sync_controller',
  lockTableName: 'sync_lock',
};

export const SYNC_SCHEMA_VERSION_TABLE = 'sync_schema_history';

/** Argo's eleven steps (0..10), verbatim but for the table names; index names stay fixed as Argo keeps them. */
export function syncSchemaSteps(tables: SyncTableNames = DEFAULT_SYNC_TABLES): string[] {
  const { limitTableName: limit, stateTableName: state, controllerTableName: controller, lockTableName: lock } = tables;
  return [
    `create table if not exists ${limit} (name varchar(256) not null, sizelimit int, primary key (name))`,
    `create unique index ilimit_name on ${limit} (name)`,
    `create table if not exists ${controller} (controller varchar(64) not null, time timestamp, primary key (controller))`,
    `create unique index icontroller_name on ${controller} (controller)`,
    `create table if not exists ${state} (name varchar(256), workflowkey varchar(256), controller varchar(64) not null, held boolean, priority int, time timestamp, primary key(name, workflowkey, controller))`,
    `create index istate_name on ${state} (name)`,
    `create index istate_workflowkey on ${state} (workflowkey)`,
    `create index istate_controller on ${state} (controller)`,
    `create index istate_held on ${state} (held)`,
    `create table if not exists ${lock} (name varchar(256), controller varchar(64) not null, time timestamp, primary key(name))`,
    `create unique index ilock_name on ${lock} (name)`,
  ];
}

/** Brings the sync schema to version 10; a database Argo already migrated is left as it is. Returns the version. */
export function migrateSyncSchema(database: SqlDatabase, tables: SyncTableNames = DEFAULT_SYNC_TABLES): Promise<number> {
  return applySteps(database, SYNC_SCHEMA_VERSION_TABLE, syncSchemaSteps(tables));
}

export const ARGOSYNC_SYNC_VERSION_TABLE = 'argosync_sync_schema_history';

/**
 * argosync's additions to a shared sync database, apart from Argo's tables so Argo controllers never see them:
 * the per-lock fencing counter and the token and time of each grant.
 */
export function migrateArgosyncSyncSchema(database: SqlDatabase): Promise<number> {
  return applySteps(database, ARGOSYNC_SYNC_VERSION_TABLE, [
    `create table if not exists argosync_sync_fence (name varchar(256) not null, token bigint not null, primary key (name))`,
    `create table if not exists argosync_sync_grant (name varchar(256) not null, workflowkey varchar(256) not null, controller varchar(64) not null, token bigint not null, granted_at timestamp not null, primary key (name, workflowkey, controller))`,
  ]);
}
