import type { Kysely } from 'kysely';
import type { SqlDatabase } from '../sql-database.js';
import { readJsonColumn } from '../json-column.js';

interface ArchiveTables {
  argo_archived_workflows: {
    clustername: string;
    uid: string;
    instanceid: string;
    name: string;
    namespace: string;
    phase: string;
    workflow: unknown;
    startedat: Date;
    finishedat: Date;
    creationtimestamp: Date;
  };
  argo_archived_workflows_labels: { clustername: string; uid: string; name: string; value: string };
}

/** An archived workflow as Argo's archive tables hold it: the columns it is found by, the document and its labels. */
export interface ArchivedRow {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly phase: string;
  readonly workflowJson: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly creationTimestamp: Date;
  readonly labels: Readonly<Record<string, string>>;
}

/** Argo's `argo_archived_workflows` and its labels table, scoped to one cluster and instance id. */
export class ArchiveRows {
  readonly #db: Kysely<ArchiveTables>;
  readonly #clusterName: string;
  readonly #instanceId: string;

  constructor(database: SqlDatabase, scope: { readonly clusterName: string; readonly instanceId: string }) {
    this.#db = database.db as Kysely<ArchiveTables>;
    this.#clusterName = scope.clusterName;
    this.#instanceId = scope.instanceId;
  }

  /** Writes the workflow and its labels in one transaction, over any earlier archive of the same uid. */
  async replace(row: ArchivedRow): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('argo_archived_workflows').where('clustername', '=', this.#clusterName).where('uid', '=', row.uid).where('instanceid', '=', this.#instanceId).execute();
      await tx
        .insertInto('argo_archived_workflows')
        .values({
          clustername: this.#clusterName,
          uid: row.uid,
          instanceid: this.#instanceId,
          name: row.name,
          namespace: row.namespace,
          phase: row.phase,
          workflow: row.workflowJson,
          startedat: row.startedAt,
          finishedat: row.finishedAt,
          creationtimestamp: row.creationTimestamp,
        })
        .execute();
      const labels = Object.entries(row.labels).map(([name, value]) => ({ clustername: this.#clusterName, uid: row.uid, name, value }));
      await tx.insertInto('argo_archived_workflows_labels').values(labels).execute();
    });
  }

  /** The archived documents, newest start first (then by uid), of one namespace or all. */
  async list<T>(namespace: string | undefined): Promise<T[]> {
    let query = this.#db
      .selectFrom('argo_archived_workflows')
      .select('workflow')
      .where('clustername', '=', this.#clusterName)
      .where('instanceid', '=', this.#instanceId)
      .orderBy('startedat', 'desc')
      .orderBy('uid');
    if (namespace) query = query.where('namespace', '=', namespace);
    return (await query.execute()).map((row) => readJsonColumn<T>(row.workflow));
  }

  async get<T>(uid: string): Promise<T | undefined> {
    const row = await this.#db
      .selectFrom('argo_archived_workflows')
      .select('workflow')
      .where('clustername', '=', this.#clusterName)
      .where('instanceid', '=', this.#instanceId)
      .where('uid', '=', uid)
      .executeTakeFirst();
    return row && readJsonColumn<T>(row.workflow);
  }

  /** True when a row went. */
  async delete(uid: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('argo_archived_workflows').where('clustername', '=', this.#clusterName).where('instanceid', '=', this.#instanceId).where('uid', '=', uid).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Deletes the workflows that finished before `finishedBefore`; returns how many went. */
  async deleteFinishedBefore(finishedBefore: Date): Promise<number> {
    const result = await this.#db
      .deleteFrom('argo_archived_workflows')
      .where('clustername', '=', this.#clusterName)
      .where('instanceid', '=', this.#instanceId)
      .where('finishedat', '<', finishedBefore)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
