import type { Kysely } from 'kysely';
import type { SyncTableNames } from '../../store/migrations/sync-migrations.js';

/** Argo's sync tables (SPEC §4) and argosync's two additions, under their default names. */
export interface SyncTables {
  sync_limit: { name: string; sizelimit: number | null };
  sync_controller: { controller: string; time: Date | null };
  sync_state: { name: string; workflowkey: string; controller: string; held: boolean | number; priority: number; time: Date };
  sync_lock: { name: string; controller: string; time: Date };
  argosync_sync_fence: { name: string; token: number | string };
  argosync_sync_grant: { name: string; workflowkey: string; controller: string; token: number | string; granted_at: Date };
}

export type SyncDb = Kysely<SyncTables>;

/** The configured table names, typed as the default names so queries stay typed whatever the names are. */
export interface SyncTableRefs {
  readonly limit: 'sync_limit';
  readonly controller: 'sync_controller';
  readonly state: 'sync_state';
  readonly lock: 'sync_lock';
}

export function syncTableRefs(names: SyncTableNames): SyncTableRefs {
  return {
    limit: names.limitTableName as 'sync_limit',
    controller: names.controllerTableName as 'sync_controller',
    state: names.stateTableName as 'sync_state',
    lock: names.lockTableName as 'sync_lock',
  };
}
