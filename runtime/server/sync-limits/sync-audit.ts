import type { Clock } from '../../clock.js';
import type { SqlDatabase } from '../../store/sql-database.js';
import { AuditRows } from '../../store/audit/audit-rows.js';
import type { FoundLimit, SyncLimit, SyncLimitRef } from './sync-limit.js';

export interface AuditEntry {
  readonly at: string;
  readonly actor: string;
  readonly namespace: string;
  /** `ConfigMap/<cm>/<key>` or `Database/<key>`. */
  readonly limit: string;
  readonly action: 'create' | 'update' | 'delete';
  /** A number, or the text a ConfigMap held where that was not an integer. */
  readonly oldValue?: number | string;
  readonly newValue?: number;
}

/** Who changed which limit when, from what to what (SPEC §7.2), in `argosync_audit` of the state store. */
export class SyncAudit {
  readonly #rows: AuditRows;

  constructor(
    database: SqlDatabase,
    private readonly clock: Clock,
  ) {
    this.#rows = new AuditRows(database);
  }

  /**
   * Records a change and makes it (SPEC §7.6: no change without its audit row). `change` calls `recordBefore`
   * with the old value (undefined for a create) after reading it and before writing: the row is written then,
   * and withdrawn when the change fails or does nothing. A second call (a retried read-modify-write) replaces
   * the row. `change` resolves with the limit as it is afterwards (undefined when there was nothing to change).
   */
  async audited<T extends SyncLimitRef | undefined>(
    actor: string,
    action: AuditEntry['action'],
    after: SyncLimit | undefined,
    change: (recordBefore: (before: FoundLimit | undefined) => Promise<void>) => Promise<T>,
  ): Promise<T> {
    let id: number | string | undefined;
    const withdraw = async () => {
      if (id !== undefined) await this.#rows.delete(id);
      id = undefined;
    };
    const recordBefore = async (before: FoundLimit | undefined) => {
      await withdraw();
      id = await this.#record(actor, action, before, after);
    };
    let result: T;
    try {
      result = await change(recordBefore);
    } catch (error) {
      await withdraw();
      throw error;
    }
    if (result === undefined) await withdraw();
    return result;
  }

  async #record(actor: string, action: AuditEntry['action'], before: FoundLimit | undefined, after: SyncLimit | undefined): Promise<number | string> {
    const limit = (after ?? before)!;
    return this.#rows.insert({
      at: new Date(this.clock.now()),
      actor,
      namespace: limit.namespace,
      lockName: limit.type === 'DATABASE' ? `Database/${limit.key}` : `ConfigMap/${limit.cmName}/${limit.key}`,
      action,
      oldValue: before ? String(before.limit) : null,
      newValue: after ? String(after.limit) : null,
    });
  }

  /** Newest first. */
  async list(namespace: string | undefined, limit = 500): Promise<AuditEntry[]> {
    return (await this.#rows.newestFirst(namespace, limit)).map((row) => ({
      at: row.at.toISOString(),
      actor: row.actor,
      namespace: row.namespace,
      limit: row.lockName,
      action: row.action as AuditEntry['action'],
      ...(row.oldValue === null ? {} : { oldValue: /^-?\d+$/.test(row.oldValue) ? Number(row.oldValue) : row.oldValue }),
      ...(row.newValue === null ? {} : { newValue: Number(row.newValue) }),
    }));
  }
}
