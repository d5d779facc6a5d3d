import type { Kysely } from 'kysely';
import type { SqlDatabase } from '../sql-database.js';

interface AuditTables {
  argosync_audit: {
    id?: number | string;
    at: Date;
    actor: string;
    namespace: string;
    lock_name: string;
    action: string;
    old_value: string | null;
    new_value: string | null;
  };
}

/** One row of `argosync_audit`: who changed which limit when, from what to what (null where there was none). */
export interface AuditRow {
  readonly at: Date;
  readonly actor: string;
  readonly namespace: string;
  readonly lockName: string;
  readonly action: string;
  readonly oldValue: string | null;
  readonly newValue: string | null;
}

/** Characters `old_value` and `new_value` hold. */
const VALUE_LENGTH = 64;

/** A longer value (text someone wrote in a ConfigMap) is cut and ends in `…`, so no change is refused for its audit row. */
function fitted(value: string | null): string | null {
  const characters = value === null ? [] : [...value];
  return characters.length <= VALUE_LENGTH ? value : `${characters.slice(0, VALUE_LENGTH - 1).join('')}…`;
}

/** The rows of `argosync_audit` in the state store. */
export class AuditRows {
  readonly #db: Kysely<AuditTables>;
  readonly #returnsInsertId: boolean;

  constructor(database: SqlDatabase) {
    this.#db = database.db as Kysely<AuditTables>;
    this.#returnsInsertId = database.engine.driver === 'mysql';
  }

  /** Inserts the row; resolves with its id. */
  async insert(row: AuditRow): Promise<number | string> {
    const insert = this.#db.insertInto('argosync_audit').values({
      at: row.at,
      actor: row.actor,
      namespace: row.namespace,
      lock_name: row.lockName,
      action: row.action,
      old_value: fitted(row.oldValue),
      new_value: fitted(row.newValue),
    });
    // MySQL has no RETURNING; its driver reports the auto-increment id instead.
    if (this.#returnsInsertId) return String((await insert.executeTakeFirstOrThrow()).insertId);
    return (await insert.returning('id').executeTakeFirstOrThrow()).id!;
  }

  async delete(id: number | string): Promise<void> {
    await this.#db.deleteFrom('argosync_audit').where('id', '=', id).execute();
  }

  /** At most `limit` rows, newest first, of one namespace or all. */
  async newestFirst(namespace: string | undefined, limit: number): Promise<AuditRow[]> {
    let query = this.#db.selectFrom('argosync_audit').select(['at', 'actor', 'namespace', 'lock_name', 'action', 'old_value', 'new_value']).orderBy('id', 'desc').limit(limit);
    if (namespace !== undefined) query = query.where('namespace', '=', namespace);
    return (await query.execute()).map((row) => ({
      at: row.at,
      actor: row.actor,
      namespace: row.namespace,
      lockName: row.lock_name,
      action: row.action,
      oldValue: row.old_value,
      newValue: row.new_value,
    }));
  }
}
