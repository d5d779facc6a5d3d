import { InvalidArgumentError } from '../../errors.js';
import { parseLabelSelector } from '../../store/label-selector.js';
import type { SqlDatabase } from '../../store/sql-database.js';
import { ArchiveRows } from '../../store/archive/archive-rows.js';
import { ARCHIVING_STATUS_LABEL, type Workflow } from '../workflows/workflow.js';
import type { ArchiveListOptions, WorkflowArchive } from './workflow-archive.js';

const DEFAULT_LIMIT = 500;

const dateOf = (text: string | undefined) => (text ? new Date(text) : new Date());

/** Argo's workflow archive in the persistence database, scoped by `clusterName` (and an instance id, empty by default). */
export class SqlWorkflowArchive implements WorkflowArchive {
  readonly #rows: ArchiveRows;

  constructor(database: SqlDatabase, options: { readonly clusterName: string; readonly instanceId?: string }) {
    this.#rows = new ArchiveRows(database, { clusterName: options.clusterName, instanceId: options.instanceId ?? '' });
  }

  async archive(workflow: Workflow): Promise<void> {
    const labels = { ...workflow.metadata.labels, [ARCHIVING_STATUS_LABEL]: 'Persisted' };
    const archived: Workflow = { ...workflow, metadata: { ...workflow.metadata, labels } };
    const { uid, name, namespace, creationTimestamp } = workflow.metadata;
    await this.#rows.replace({
      uid,
      name,
      namespace,
      phase: workflow.status?.phase ?? '',
      workflowJson: JSON.stringify(archived),
      startedAt: dateOf(workflow.status?.startedAt ?? creationTimestamp),
      finishedAt: dateOf(workflow.status?.finishedAt),
      creationTimestamp: dateOf(creationTimestamp),
      labels,
    });
  }

  async list(options: ArchiveListOptions = {}): Promise<{ readonly items: readonly Workflow[]; readonly continue?: string }> {
    const limit = options.limit && options.limit > 0 ? options.limit : DEFAULT_LIMIT;
    const offset = options.continue ? parseOffset(options.continue) : 0;
    const matches = options.labelSelector ? parseLabelSelector(options.labelSelector) : undefined;
    const matching = (await this.#rows.list<Workflow>(options.namespace)).filter((workflow) => !matches || matches(workflow.metadata.labels));
    const items = matching.slice(offset, offset + limit);
    return { items, ...(offset + limit < matching.length ? { continue: String(offset + limit) } : {}) };
  }

  async get(uid: string): Promise<Workflow | undefined> {
    return this.#rows.get<Workflow>(uid);
  }

  async delete(uid: string): Promise<boolean> {
    return this.#rows.delete(uid);
  }

  async collectExpired(ttlMs: number): Promise<number> {
    return this.#rows.deleteFinishedBefore(new Date(Date.now() - ttlMs));
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
