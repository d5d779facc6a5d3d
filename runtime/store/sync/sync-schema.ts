import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { EngineTraits } from '../engines/engine-traits.js';
import type { SqlDatabase } from '../sql-database.js';
import type { SyncTableNames } from '../migrations/sync-migrations.js';

/** Argo's sync tables (SPEC §4) and argosync's two additions, under their default names. */
export interface SyncTables {
  sync_limit: { name: string; sizelimit: number | null };
  sync_controller: { controller: string; time: Date | null };
  sync_state: { name: string; workflowkey: string; controller: string; held: boolean | number; priority: number; time: Date };
  sync_lock: { name: string; controller: string; time: Date };
  argosync_sync_fence: { name: string; token: number | string };
  argosync_sync_grant: { name: string; workflowkey: string; controller: string; token: number | string; granted_at: Date };
}

/** A transaction on the sync tables; callers outside the store only pass it back to store functions. */
export type SyncTransaction = Transaction<SyncTables>;

/** The configured table names, typed as the default names so queries stay typed whatever the names are. */
export interface SyncTableRefs {
  readonly limit: 'sync_limit';
  readonly controller: 'sync_controller';
  readonly state: 'sync_state';
  readonly lock: 'sync_lock';
}

/** What every sync query needs: the connection, the configured table names and the engine's traits. */
export interface SyncSchema {
  readonly database: SqlDatabase;
  readonly db: Kysely<SyncTables>;
  readonly tables: SyncTableRefs;
  readonly engine: EngineTraits;
}

export function syncSchema(database: SqlDatabase, names: SyncTableNames): SyncSchema {
  return {
    database,
    db: database.db as Kysely<SyncTables>,
    engine: database.engine,
    tables: {
      limit: names.limitTableName as 'sync_limit',
      controller: names.controllerTableName as 'sync_controller',
      state: names.stateTableName as 'sync_state',
      lock: names.lockTableName as 'sync_lock',
    },
  };
}

/** Controllers whose heartbeat is newer than `cutoff`: only their queue rows count when ordering (Argo's rule). */
export function liveControllers(schema: SyncSchema, db: Kysely<SyncTables>, cutoff: Date) {
  return db.selectFrom(schema.tables.controller).select('controller').where('time', '>', cutoff);
}

/**
 * A call of one of the sync functions (acquisition, release): its SQL text is built once, and the engine keeps
 * it prepared on each connection (PostgreSQL), so a call costs neither a query build nor a parse and plan.
 */
export class FunctionCall<R> {
  readonly #text: string;

  constructor(
    private readonly schema: SyncSchema,
    name: string,
    columns: readonly (keyof R & string)[],
    argumentCount: number,
  ) {
    const placeholders = Array.from({ length: argumentCount }, (_, index) => `$${index + 1}`);
    this.#text = `select ${columns.join(', ')} from ${name}(${placeholders.join(', ')})`;
    schema.engine.keepPrepared(this.#text);
  }

  async run(...parameters: unknown[]): Promise<R[]> {
    return (await this.schema.db.executeQuery(CompiledQuery.raw(this.#text, parameters))).rows as R[];
  }
}
