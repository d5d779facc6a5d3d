import type { Kysely } from 'kysely';
import { InvalidArgumentError } from '../../errors.js';
import { parseLabelSelector } from '../../store/label-selector.js';
import { readJsonColumn } from '../../store/json-column.js';
import type { SqlDatabase } from '../../store/sql-database.js';
import { ARCHIVING_STATUS_LABEL, type Workflow } from '../workflows/workflow.js';
import type { ArchiveListOptions, WorkflowArchive } from './workflow-archive.js';

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

const DEFAULT_LIMIT = 500;

const dateOf = (text: string | undefined) => (text ? new Date(text) : new Date());

/** Argo's workflow archive in the persistence database, scoped by `clusterName` (and an instance id, empty by default). */
export class SqlWorkflowArchive implements WorkflowArchive {
  readonly #db: Kysely<ArchiveTables>;
  readonly #clusterName: string;
  readonly #instanceId: string;

  constructor(database: SqlDatabase, options: { readonly clusterName: string; readonly instanceId?: string }) {
    this.#db = database.db as Kysely<ArchiveTables>;
    this.#clusterName = options.clusterName;
    this.#instanceId = options.instanceId ?? '';
  }

  async archive(workflow: Workflow): Promise<void> {
    const labels = { ...workflow.metadata.labels, [ARCHIVING_STATUS_LABEL]: 'Persisted' };
    const archived: Workflow = { ...workflow, metadata: { ...workflow.metadata, labels } };
    const { uid, name, namespace, creationTimestamp } = workflow.metadata;
    await this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('argo_archived_workflows').where('clustername', '=', this.#clusterName).where('uid', '=', uid).where('instanceid', '=', this.#instanceId).execute();
      await tx
        .insertInto('argo_archived_workflows')
        .values({
          clustername: this.#clusterName,
          uid,
          instanceid: this.#instanceId,
          name,
          namespace,
          phase: workflow.status?.phase ?? '',
          workflow: JSON.stringify(archived),
          startedat: dateOf(workflow.status?.startedAt ?? creationTimestamp),
          finishedat: dateOf(workflow.status?.finishedAt),
          creationtimestamp: dateOf(creationTimestamp),
        })
        .execute();
      const rows = Object.entries(labels).map(([key, value]) => ({ clustername: this.#clusterName, uid, name: key, value }));
      await tx.insertInto('argo_archived_workflows_labels').values(rows).execute();
    });
  }

  async list(options: ArchiveListOptions = {}): Promise<{ readonly items: readonly Workflow[]; readonly continue?: string }> {
    const limit = options.limit && options.limit > 0 ? options.limit : DEFAULT_LIMIT;
    const offset = options.continue ? parseOffset(options.continue) : 0;
    const matches = options.labelSelector ? parseLabelSelector(options.labelSelector) : undefined;
    let query = this.#db
      .selectFrom('argo_archived_workflows')
      .select('workflow')
      .where('clustername', '=', this.#clusterName)
      .where('instanceid', '=', this.#instanceId)
      .orderBy('startedat', 'desc')
      .orderBy('uid');
    if (options.namespace) query = query.where('namespace', '=', options.namespace);
    const matching = (await query.execute()).map((row) => readJsonColumn<Workflow>(row.workflow)).filter((workflow) => !matches || matches(workflow.metadata.labels));
    const items = matching.slice(offset, offset + limit);
    return { items, ...(offset + limit < matching.length ? { continue: String(offset + limit) } : {}) };
  }

  async get(uid: string): Promise<Workflow | undefined> {
    const row = await this.#db
      .selectFrom('argo_archived_workflows')
      .select('workflow')
      .where('clustername', '=', this.#clusterName)
      .where('instanceid', '=', this.#instanceId)
      .where('uid', '=', uid)
      .executeTakeFirst();
    return row && readJsonColumn<Workflow>(row.workflow);
  }

  async delete(uid: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('argo_archived_workflows').where('clustername', '=', this.#clusterName).where('instanceid', '=', this.#instanceId).where('uid', '=', uid).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async collectExpired(ttlMs: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('argo_archived_workflows')
      .where('clustername', '=', this.#clusterName)
      .where('instanceid', '=', this.#instanceId)
      .where('finishedat', '<', new Date(Date.now() - ttlMs))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** The archive without persistence: nothing is archived, and reads say why (Argo's texts). */
export const unsupportedArchive: WorkflowArchive = {
  archive: async () => undefined,
  list: async () => ({ items: [] }),
  get: async () => {
    throw new InvalidArgumentError('getting archived workflows not supported');
  },
  delete: async () => {
    throw new InvalidArgumentError('deleting archived workflows not supported');
  },
  collectExpired: async () => 0,
};

function parseOffset(token: string): number {
  if (!/^\d+$/.test(token)) throw new InvalidArgumentError('invalid listOptions.continue: pass the continue token of the previous page unchanged');
  return Number(token);
}
