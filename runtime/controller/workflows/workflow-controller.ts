import { isDeepStrictEqual } from 'node:util';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { LabelMatcher } from '../../store/label-selector.js';
import type { WorkflowStore } from '../../store/workflow-store.js';
import type { WorkflowArchive } from '../archive/workflow-archive.js';
import type { SyncManager } from '../sync/sync-manager.js';
import type { Executor } from './executors/executor.js';
import { ExecutorNodeExecutions } from './node-executions.js';
import { recordedHolds } from './sync-status.js';
import { WorkQueue } from './work-queue.js';
import { WorkflowOperation } from './workflow-operation.js';
import { ARCHIVING_STATUS_LABEL, COMPLETED_LABEL, isCompleted, kubernetesTime, workflowKey, type Workflow, type WorkflowStatus } from './workflow.js';

/** Argo's node-status hydrator (SPEC §6): compression and offload on write, the reverse on read. */
export interface NodeStatusCodec {
  hydrate(workflow: Workflow): Promise<Workflow>;
  dehydrate(workflow: Workflow): Promise<Workflow>;
}

/** Where completed workflows go when `persistence.archive` is on. */
export interface Archiving {
  readonly archive: WorkflowArchive;
  readonly matches: LabelMatcher;
}

export interface WorkflowControllerOptions {
  readonly store: WorkflowStore;
  readonly executor: Executor;
  /** The sync engine's manager in use (it is replaced when the config API changes the sync database). */
  readonly sync: () => SyncManager | undefined;
  readonly codec: () => NodeStatusCodec;
  readonly archiving: () => Archiving | undefined;
  readonly now?: () => Date;
  readonly say: (line: string) => void;
  /** How often every unfinished workflow is looked at again, for changes made by other processes. */
  readonly resyncMs?: number;
  /** How often holders and waiters of workflows that are gone or finished are dropped (Argo: 1 minute). */
  readonly sweepMs?: number;
  /** At start, a line says how far re-queueing got after every this many unfinished workflows (1000). */
  readonly startProgressEvery?: number;
}

const PAGE = 500;

/**
 * The workflow controller (SPEC §6): the single writer of workflow status. It re-establishes the holds recorded
 * in running workflows before admitting anyone, then reconciles each workflow whenever it changes, a lock it
 * waits for may be free, one of its nodes ends or a timer fires; completed workflows release their locks and
 * are archived.
 */
export class WorkflowController {
  readonly #options: WorkflowControllerOptions;
  readonly #queue: WorkQueue;
  readonly #executions: ExecutorNodeExecutions;
  /** Workflows that lost a hold while this controller was declared inactive: failed on their next pass. */
  readonly #lostHolds = new Map<string, string>();
  readonly #stops: (() => void)[] = [];
  #started = false;

  constructor(options: WorkflowControllerOptions) {
    this.#options = options;
    this.#queue = new WorkQueue((key) => this.#reconcileSafely(key));
    this.#executions = new ExecutorNodeExecutions(options.executor, (key) => this.#queue.add(key));
  }

  /** SPEC §5 rule 7: re-establish holds, fail the workflows whose holds are gone, then reconcile in queue order. */
  async start(): Promise<void> {
    const unfinished = await this.#listUnfinished();
    const sync = this.#options.sync();
    if (sync) {
      const stale = await sync.initialize(unfinished.filter((workflow) => workflow.status?.phase === 'Running').flatMap(recordedHolds));
      for (const hold of stale) this.#lostHolds.set(`${hold.namespace}/${hold.workflowName}`, `Failed to re-establish synchronization lock at controller startup: ${hold.reason}`);
      const live = new Set(unfinished.map(workflowKey));
      await sync.sweep((key) => live.has(key));
    }
    this.#started = true;
    const ordered = [...unfinished].sort(
      (a, b) => (b.spec.priority ?? 0) - (a.spec.priority ?? 0) || Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp),
    );
    // One at a time, so that waiters queue again in their order before anyone new is admitted.
    const progressEvery = this.#options.startProgressEvery ?? 1000;
    for (const [index, workflow] of ordered.entries()) {
      await this.#reconcileSafely(workflowKey(workflow));
      if ((index + 1) % progressEvery === 0) this.#options.say(`re-queued ${index + 1} of ${ordered.length} unfinished workflows`);
    }
    this.#stops.push(await this.#options.store.watch((event) => this.#queue.add(`${event.namespace}/${event.name}`)));
    this.#every(this.#options.resyncMs ?? 10_000, async () => {
      for (const workflow of await this.#listUnfinished()) this.#queue.add(workflowKey(workflow));
    });
    this.#every(this.#options.sweepMs ?? 60_000, () => this.#sweep());
    this.#options.say(`workflow controller started: ${unfinished.length} unfinished workflows, executor ${this.#options.executor.name}`);
  }

  /** Stops reconciling and stops the nodes this process runs (they run again under the next leader). */
  stop(): void {
    this.#started = false;
    this.#queue.stop();
    for (const stop of this.#stops.splice(0)) stop();
    this.#executions.cancelAll();
  }

  /** A lock the workflow waits for may be free (the sync engine's wake-up). */
  wake(workflowKey: string): void {
    if (this.#started) this.#queue.add(workflowKey);
  }

  /** Self-fencing: a hold was reclaimed from this controller; the workflow fails with the reason. */
  holdLost(workflowKey: string, lockName: string): void {
    this.#lostHolds.set(workflowKey, `lost the synchronization lock ${lockName}: this controller was declared inactive and its hold was reclaimed`);
    this.wake(workflowKey);
  }

  /** Resolves once every queued reconciliation has run (for tests and orderly shutdown). */
  idle(): Promise<void> {
    return this.#queue.drained();
  }

  #every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => void task().catch((error: unknown) => this.#options.say(`workflow controller: ${(error as Error).message}`)), ms);
    timer.unref();
    this.#stops.push(() => clearInterval(timer));
  }

  async #listUnfinished(): Promise<Workflow[]> {
    const workflows: Workflow[] = [];
    let token: string | undefined;
    do {
      const page = await this.#options.store.list({ unfinished: true, limit: PAGE, ...(token ? { continue: token } : {}) });
      workflows.push(...page.items);
      token = page.continue;
    } while (token);
    return workflows;
  }

  /** Argo's CheckWorkflowExistence, extended to finished workflows whose release was interrupted. */
  async #sweep(): Promise<void> {
    const live = new Set((await this.#listUnfinished()).map(workflowKey));
    await this.#options.sync()?.sweep((key) => live.has(key));
  }

  async #reconcileSafely(key: string): Promise<void> {
    try {
      await this.#reconcile(key);
    } catch (error) {
      if (error instanceof ConflictError) {
        this.#queue.add(key);
        return;
      }
      this.#options.say(`workflow ${key}: reconciliation failed, retrying: ${(error as Error).message}`);
      this.#queue.addAfter(key, 1_000);
    }
  }

  async #reconcile(key: string): Promise<void> {
    const [namespace, name] = splitKey(key);
    const stored = await this.#options.store.get(namespace, name);
    if (!stored) {
      await this.#forget(namespace, name);
      return;
    }
    if (isCompleted(stored)) {
      await this.#completed(stored);
      return;
    }
    const codec = this.#options.codec();
    const workflow = await codec.hydrate(stored);
    const operation = new WorkflowOperation(workflow, {
      sync: this.#options.sync(),
      executions: this.#executions,
      now: this.#options.now ?? (() => new Date()),
      requeueAfter: (ms) => this.#queue.addAfter(key, ms),
    });
    const status = await operation.run(this.#lostHolds.get(key));
    // Key order is not compared: PostgreSQL's jsonb returns keys sorted.
    if (isDeepStrictEqual(status, workflow.status ?? { phase: '' })) return;
    const done = isCompleted({ status });
    if (done) delete status.synchronization;
    const saved = await this.#save({ ...workflow, metadata: done ? this.#completionLabels(workflow) : workflow.metadata, status: status as WorkflowStatus }, codec);
    if (done) await this.#completed(saved);
  }

  /** Writes the workflow, dehydrated; one too large to store fails with Argo's message instead. */
  async #save(workflow: Workflow, codec: NodeStatusCodec): Promise<Workflow> {
    let dehydrated: Workflow;
    try {
      dehydrated = await codec.dehydrate(workflow);
    } catch (error) {
      const { nodes: _nodes, ...rest } = workflow.status ?? { phase: '' };
      dehydrated = { ...workflow, status: { ...rest, phase: 'Error', message: (error as Error).message, finishedAt: kubernetesTime((this.#options.now ?? (() => new Date()))()) } };
    }
    return this.#options.store.update(dehydrated);
  }

  #completionLabels(workflow: Workflow): Workflow['metadata'] {
    const labels: Record<string, string> = { ...workflow.metadata.labels, [COMPLETED_LABEL]: 'true' };
    if (this.#options.archiving()?.matches(workflow.metadata.labels)) labels[ARCHIVING_STATUS_LABEL] = 'Pending';
    return { ...workflow.metadata, labels };
  }

  /** After a workflow is persisted as completed: release everything, clean up nodes, archive when pending. */
  async #completed(workflow: Workflow): Promise<void> {
    const { namespace, name } = workflow.metadata;
    await this.#forget(namespace, name, workflow.metadata.uid);
    const archiving = this.#options.archiving();
    if (!archiving || workflow.metadata.labels?.[ARCHIVING_STATUS_LABEL] !== 'Pending') return;
    await archiving.archive.archive(await this.#options.codec().hydrate(workflow));
    try {
      await this.#options.store.update({ ...workflow, metadata: { ...workflow.metadata, labels: { ...workflow.metadata.labels, [ARCHIVING_STATUS_LABEL]: 'Archived' } } });
    } catch (error) {
      // Deleted meanwhile: the archive keeps it, nothing else to mark.
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  async #forget(namespace: string, name: string, uid?: string): Promise<void> {
    const key = `${namespace}/${name}`;
    this.#executions.cancel(key);
    this.#lostHolds.delete(key);
    await this.#options.sync()?.releaseAll(namespace, name);
    await this.#options.executor.cleanup(namespace, name, uid);
  }
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}
