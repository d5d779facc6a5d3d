import type { SqlDatabase } from '../sql-database.js';
import { applySteps } from './migration-runner.js';

export const ARGOSYNC_VERSION_TABLE = 'argosync_schema_history';

/** argosync's own state-store tables (prefix `argosync_`), versioned apart from Argo's schemas. */
function argosyncSteps(database: SqlDatabase): string[] {
  const json = database.engine.jsonColumnType;
  const bigSerial = database.engine.driver === 'mysql' ? 'bigint not null auto_increment' : 'bigserial';
  return [
    `create table if not exists argosync_configmaps (namespace varchar(253) not null, name varchar(253) not null, data ${json} not null, labels ${json} not null, resource_version bigint not null, primary key (namespace, name))`,
    `create table if not exists argosync_sequence (name varchar(64) not null, value bigint not null, primary key (name))`,
    `create table if not exists argosync_audit (id ${bigSerial}, at timestamp not null, actor varchar(256) not null, namespace varchar(253) not null, lock_name varchar(600) not null, action varchar(16) not null, old_value varchar(64), new_value varchar(64), primary key (id))`,
    `insert into argosync_sequence (name, value) values ('configmaps', 0)`,
    `create table if not exists argosync_config (section varchar(64) not null, document ${json} not null, updated_at timestamp not null, primary key (section))`,
    `create table if not exists argosync_workflows (namespace varchar(253) not null, name varchar(253) not null, uid varchar(64) not null, created_at timestamp not null, phase varchar(25) not null, labels ${json} not null, document ${json} not null, resource_version bigint not null, primary key (namespace, name))`,
    `create table if not exists argosync_leader (name varchar(253) not null, holder varchar(253) not null, renewed_at timestamp(3) not null, lease_seconds int not null, primary key (name))`,
    // Change announcements where the engine has no LISTEN/NOTIFY (MySQL): written by one process, polled by the others.
    `create table if not exists argosync_changes (id ${bigSerial}, channel varchar(64) not null, payload text not null, at timestamp not null, primary key (id))`,
    // Actors of any length (Kubernetes service-account user names reach 339 characters) are audited (SPEC §7.6).
    database.engine.driver === 'mysql' ? 'alter table argosync_audit modify actor text not null' : 'alter table argosync_audit alter column actor type text',
  ];
}

export function migrateArgosyncSchema(database: SqlDatabase): Promise<number> {
  return applySteps(database, ARGOSYNC_VERSION_TABLE, argosyncSteps(database));
}
