import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.js';
import type { SqlDatabase } from '../../store/sql-database.js';
import type { SyncLimit } from './sync-limit.js';

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

export interface AuditEntry {
  readonly at: string;
  readonly actor: string;
  readonly namespace: string;
  /** `ConfigMap/<cm>/<key>` or `Database/<key>`. */
  readonly limit: string;
  readonly action: 'create' | 'update' | 'delete';
  readonly oldValue?: number;
  readonly newValue?: number;
}

/** Who changed which limit when, from what to what (SPEC §7.2), in `argosync_audit` of the state store. */
export class SyncAudit {
  readonly #db: Kysely<AuditTables>;

  readonly #returnsInsertId: boolean;

  constructor(
    database: SqlDatabase,
    private readonly clock: Clock,
  ) {
    this.#db = database.db as Kysely<AuditTables>;
    this.#returnsInsertId = database.engine.driver === 'mysql';
  }

  /**
   * Records a change and makes it (SPEC §7.6: no change without its audit row): the row is written first, the
   * change runs, and the row is withdrawn when the change fails or does nothing. `change` resolves with the
   * limit as it is afterwards (undefined when there was nothing to change).
   */
  async audited<T extends SyncLimit | undefined>(
    actor: string,
    action: AuditEntry['action'],
    before: SyncLimit | undefined,
    after: SyncLimit | undefined,
    change: () => Promise<T>,
  ): Promise<T> {
    const id = await this.#record(actor, action, before, after);
    let result: T;
    try {
      result = await change();
    } catch (error) {
      await this.#withdraw(id);
      throw error;
    }
    if (result === undefined) await this.#withdraw(id);
    return result;
  }

  async #withdraw(id: number | string): Promise<void> {
    await this.#db.deleteFrom('argosync_audit').where('id', '=', id).execute();
  }

  async #record(actor: string, action: AuditEntry['action'], before: SyncLimit | undefined, after: SyncLimit | undefined): Promise<number | string> {
    const limit = (after ?? before)!;
    const insert = this.#db
      .insertInto('argosync_audit')
      .values({
        at: new Date(this.clock.now()),
        actor,
        namespace: limit.namespace,
        lock_name: limit.type === 'DATABASE' ? `Database/${limit.key}` : `ConfigMap/${limit.cmName}/${limit.key}`,
        action,
        old_value: before ? String(before.limit) : null,
        new_value: after ? String(after.limit) : null,
      });
    // MySQL has no RETURNING; its driver reports the auto-increment id instead.
    if (this.#returnsInsertId) return String((await insert.executeTakeFirstOrThrow()).insertId);
    return (await insert.returning('id').executeTakeFirstOrThrow()).id!;
  }

  /** Newest first. */
  async list(namespace: string | undefined, limit = 500): Promise<AuditEntry[]> {
    let query = this.#db.selectFrom('argosync_audit').selectAll().orderBy('id', 'desc').limit(limit);
    if (namespace !== undefined) query = query.where('namespace', '=', namespace);
    return (await query.execute()).map((row) => ({
      at: row.at.toISOString(),
      actor: row.actor,
      namespace: row.namespace,
      limit: row.lock_name,
      action: row.action as AuditEntry['action'],
      ...(row.old_value === null ? {} : { oldValue: Number(row.old_value) }),
      ...(row.new_value === null ? {} : { newValue: Number(row.new_value) }),
    }));
  }
}
