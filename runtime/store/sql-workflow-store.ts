import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { COMPLETED_PHASES, kubernetesTime, type Workflow } from '../controller/workflows/workflow.js';
import { AlreadyExistsError, ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { ChangeChannel } from './change-channel.js';
import { parseLabelSelector } from './label-selector.js';
import type { SqlDatabase } from './sql-database.js';
import type { NewWorkflow, WorkflowEvent, WorkflowList, WorkflowListOptions, WorkflowStore } from './workflow-store.js';
import { readJsonColumn } from './json-column.js';

interface WorkflowTables {
  argosync_workflows: {
    namespace: string;
    name: string;
    uid: string;
    created_at: Date;
    phase: string;
    labels: unknown;
    document: unknown;
    resource_version: number | string;
  };
}

const CHANNEL = 'argosync_workflows';
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const DEFAULT_LIMIT = 500;

const notFound = (name: string) => new NotFoundError(`workflows.argoproj.io ${JSON.stringify(name)} not found`);

/**
 * Workflows in `argosync_workflows` of the state store (see WorkflowStore). The resourceVersion is per row: an
 * update is one conditional statement, so writers of different workflows never wait for each other.
 */
export class SqlWorkflowStore implements WorkflowStore {
  readonly #database: SqlDatabase;
  readonly #db: Kysely<WorkflowTables>;
  readonly #changes: ChangeChannel<WorkflowEvent>;

  /** The table comes from `migrateArgosyncSchema`. */
  constructor(database: SqlDatabase) {
    this.#database = database;
    this.#db = database.db as Kysely<WorkflowTables>;
    this.#changes = new ChangeChannel(database, CHANNEL);
  }

  async create(submitted: NewWorkflow): Promise<Workflow> {
    const { name: given, generateName, ...metadata } = submitted.metadata;
    const now = new Date();
    for (let attempt = 0; ; attempt += 1) {
      const name = given ?? `${generateName}${suffix()}`;
      const workflow: Workflow = {
        ...submitted,
        metadata: { ...metadata, name, ...(generateName ? { generateName } : {}), uid: randomUUID(), creationTimestamp: kubernetesTime(now), resourceVersion: '1' },
        status: { phase: '' },
      };
      try {
        await this.#db.insertInto('argosync_workflows').values({ ...columnsOf(workflow), created_at: now, resource_version: 1 }).execute();
        await this.#changes.announce({ type: 'ADDED', namespace: workflow.metadata.namespace, name });
        return workflow;
      } catch (error) {
        if (!this.#database.engine.isUniqueViolation(error)) throw error;
        if (given !== undefined || attempt >= 5) throw new AlreadyExistsError(`workflows.argoproj.io ${JSON.stringify(name)} already exists`);
      }
    }
  }

  async get(namespace: string, name: string): Promise<Workflow | undefined> {
    const row = await this.#db.selectFrom('argosync_workflows').select(['document', 'resource_version']).where('namespace', '=', namespace).where('name', '=', name).executeTakeFirst();
    return row && toWorkflow(row);
  }

  async list(options: WorkflowListOptions = {}): Promise<WorkflowList> {
    const limit = options.limit && options.limit > 0 ? options.limit : DEFAULT_LIMIT;
    const matches = options.labelSelector ? parseLabelSelector(options.labelSelector) : undefined;
    const after = options.continue ? decodeContinue(options.continue) : undefined;
    const items: Workflow[] = [];
    let cursor = after;
    // Labels are filtered here, so pages are read until enough items match.
    for (;;) {
      let query = this.#db.selectFrom('argosync_workflows').select(['document', 'resource_version', 'created_at', 'name', 'namespace', 'labels']).orderBy('created_at', 'desc').orderBy('namespace').orderBy('name').limit(limit + 1);
      if (options.namespace !== undefined) query = query.where('namespace', '=', options.namespace);
      if (options.unfinished) query = query.where('phase', 'not in', [...COMPLETED_PHASES]);
      if (cursor) {
        const { createdAt, namespace, name } = cursor;
        query = query.where((eb) =>
          eb.or([
            eb('created_at', '<', createdAt),
            eb.and([eb('created_at', '=', createdAt), eb.or([eb('namespace', '>', namespace), eb.and([eb('namespace', '=', namespace), eb('name', '>', name)])])]),
          ]),
        );
      }
      const rows = await query.execute();
      for (const [index, row] of rows.entries()) {
        if (index === limit) break;
        cursor = { createdAt: new Date(row.created_at), namespace: row.namespace, name: row.name };
        if (matches && !matches(readJsonColumn<Record<string, string>>(row.labels))) continue;
        items.push(toWorkflow(row));
        if (items.length === limit) {
          const more = index < rows.length - 1;
          return { items, ...(more ? { continue: encodeContinue(cursor) } : {}) };
        }
      }
      if (rows.length <= limit) return { items };
    }
  }

  async update(workflow: Workflow): Promise<Workflow> {
    const { namespace, name, resourceVersion } = workflow.metadata;
    const next = String(Number(resourceVersion) + 1);
    const stored: Workflow = { ...workflow, metadata: { ...workflow.metadata, resourceVersion: next } };
    const result = await this.#db
      .updateTable('argosync_workflows')
      .set({ ...columnsOf(stored), resource_version: Number(next) })
      .where('namespace', '=', namespace)
      .where('name', '=', name)
      .where('resource_version', '=', Number(resourceVersion))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) {
      if (!(await this.get(namespace, name))) throw notFound(name);
      throw new ConflictError(
        `Operation cannot be fulfilled on workflows.argoproj.io ${JSON.stringify(name)}: the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    await this.#changes.announce({ type: 'MODIFIED', namespace, name });
    return stored;
  }

  async delete(namespace: string, name: string): Promise<Workflow | undefined> {
    const existing = await this.get(namespace, name);
    if (!existing) return undefined;
    const result = await this.#db.deleteFrom('argosync_workflows').where('namespace', '=', namespace).where('name', '=', name).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) return undefined;
    await this.#changes.announce({ type: 'DELETED', namespace, name });
    return existing;
  }

  watch(listener: (event: WorkflowEvent) => void): Promise<() => void> {
    return this.#changes.subscribe(listener);
  }

  close(): Promise<void> {
    return this.#changes.close();
  }
}

/** Kubernetes' generateName suffix: five characters that cannot spell words. */
function suffix(): string {
  return [...randomBytes(5)].map((byte) => SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length]).join('');
}

function columnsOf(workflow: Workflow) {
  const { resourceVersion: _version, ...metadata } = workflow.metadata;
  return {
    namespace: workflow.metadata.namespace,
    name: workflow.metadata.name,
    uid: workflow.metadata.uid,
    phase: workflow.status?.phase ?? '',
    labels: JSON.stringify(workflow.metadata.labels ?? {}),
    document: JSON.stringify({ ...workflow, metadata }),
  };
}

function toWorkflow(row: { document: unknown; resource_version: number | string }): Workflow {
  const document = readJsonColumn<Workflow>(row.document);
  return { ...document, metadata: { ...document.metadata, resourceVersion: String(row.resource_version) } };
}

interface Cursor {
  readonly createdAt: Date;
  readonly namespace: string;
  readonly name: string;
}

function encodeContinue(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.namespace, cursor.name])).toString('base64url');
}

function decodeContinue(token: string): Cursor {
  try {
    const [createdAt, namespace, name] = JSON.parse(Buffer.from(token, 'base64url').toString()) as [string, string, string];
    if (typeof namespace !== 'string' || typeof name !== 'string' || Number.isNaN(Date.parse(createdAt))) throw new Error('bad token');
    return { createdAt: new Date(createdAt), namespace, name };
  } catch {
    throw new InvalidArgumentError('invalid listOptions.continue: pass the continue token of the previous page unchanged');
  }
}
