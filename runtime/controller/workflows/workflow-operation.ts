import { createHash } from 'node:crypto';
import { parseGoDuration } from '../../config/duration.js';
import { ApiError, UnavailableError } from '../../errors.js';
import { holderKey as toHolderKey } from '../sync/holder-key.js';
import { parseSynchronization, type Synchronization } from '../sync/sync-items.js';
import type { SyncManager } from '../sync/sync-manager.js';
import type { NodeResult, NodeRun } from './executors/executor.js';
import { holdsAll, recordHolding, recordReleased, recordWaiting } from './sync-status.js';
import { orderTasks } from './task-order.js';
import { substitute, substituteArguments, substituteContainer, templateScope, workflowScope, type Scope } from './template-scope.js';
import {
  isCompletedPhase,
  kubernetesTime,
  workflowKey,
  type Arguments,
  type Draft,
  type NodePhase,
  type NodeStatus,
  type NodeType,
  type Template,
  type Workflow,
  type WorkflowStatus,
} from './workflow.js';

/** The leaf nodes running for workflows, kept by the controller across passes. */
export interface NodeExecutions {
  /** Starts the node unless it runs already; when it ends, its workflow is reconciled again. */
  start(workflowKey: string, run: NodeRun): void;
  running(workflowKey: string, nodeId: string): boolean;
  /** The node's result once it has ended. */
  result(workflowKey: string, nodeId: string): NodeResult | undefined;
  /** Stops every node of the workflow. */
  cancel(workflowKey: string): void;
}

export interface OperationContext {
  /** Undefined while the sync engine is being replaced: lock requests wait. */
  readonly sync: SyncManager | undefined;
  readonly executions: NodeExecutions;
  readonly now: () => Date;
  /** Reconcile the workflow again after `ms` (deadlines, suspend durations, transient errors). */
  readonly requeueAfter: (ms: number) => void;
}

type NodeDraft = Draft<NodeStatus>;
type Acquisition = { readonly acquired: true } | { readonly acquired: false; readonly message: string; readonly failedLockName?: string } | { readonly error: string };

const TRANSIENT_RETRY_MS = 1_000;
const FAILED: ReadonlySet<string> = new Set(['Failed', 'Error']);

/** Argo-style node IDs: the workflow name for the root, `<workflow>-<hash of the node name>` below it. */
export function nodeIdOf(workflowName: string, nodeName: string): string {
  if (nodeName === workflowName) return workflowName;
  return `${workflowName}-${createHash('sha256').update(nodeName).digest().readUInt32BE(0)}`;
}

function nodeTypeOf(template: Template): NodeType {
  if (template.steps) return 'Steps';
  if (template.dag) return 'DAG';
  if (template.suspend) return 'Suspend';
  return 'Pod';
}

/**
 * One reconciliation pass over a workflow (Argo's `operate`): workflow-level locks, then the node tree from the
 * entrypoint — template-level locks, steps, DAG tasks, suspends and leaf nodes through the executor — and the
 * workflow's phase from its root node. It changes only `status`; the caller persists it.
 */
export class WorkflowOperation {
  readonly status: Draft<WorkflowStatus>;
  readonly #workflow: Workflow;
  readonly #context: OperationContext;
  readonly #key: string;
  readonly #templates: ReadonlyMap<string, Template>;
  readonly #nodes: Record<string, NodeDraft>;
  readonly #scope: Scope;

  constructor(workflow: Workflow, context: OperationContext) {
    this.#workflow = workflow;
    this.#context = context;
    this.#key = workflowKey(workflow);
    this.status = structuredClone((workflow.status ?? { phase: '' }) as Draft<WorkflowStatus>);
    this.#nodes = (this.status.nodes ??= {});
    this.#templates = new Map(workflow.spec.templates.map((template) => [template.name, template]));
    this.#scope = workflowScope(workflow);
  }

  /** `failure`: a reason to fail the workflow now (a hold reclaimed from this controller). */
  async run(failure?: string): Promise<Draft<WorkflowStatus>> {
    const { spec } = this.#workflow;
    const status = this.status;
    if (isCompletedPhase(status.phase)) return status;
    if (failure !== undefined) return this.#stop(failure);
    if (spec.shutdown) return this.#stop(`Stopped with strategy '${spec.shutdown}'`);
    if (spec.synchronization) {
      const acquisition = await this.#acquire(undefined, spec.synchronization);
      if ('error' in acquisition) return this.#finish('Failed', `Failed to acquire the synchronization lock. ${acquisition.error}`);
      if (!acquisition.acquired) {
        status.phase = 'Pending';
        status.message = acquisition.message;
        return status;
      }
    }
    const now = this.#context.now();
    if (status.phase !== 'Running') {
      status.phase = 'Running';
      status.startedAt ??= kubernetesTime(now);
      delete status.message;
    }
    if (spec.activeDeadlineSeconds !== undefined) {
      const remaining = Date.parse(status.startedAt!) + spec.activeDeadlineSeconds * 1000 - now.getTime();
      if (remaining <= 0) return this.#stop('Max duration limit exceeded');
      this.#context.requeueAfter(remaining);
    }
    const root = await this.#execute(this.#workflow.metadata.name, spec.entrypoint, spec.arguments, undefined, undefined);
    if (isCompletedPhase(root.phase)) return this.#finish(root.phase === 'Succeeded' ? 'Succeeded' : root.phase === 'Error' ? 'Error' : 'Failed', root.message);
    return status;
  }

  #finish(phase: 'Succeeded' | 'Failed' | 'Error', message: string | undefined): Draft<WorkflowStatus> {
    const status = this.status;
    status.phase = phase;
    status.finishedAt = kubernetesTime(this.#context.now());
    if (message === undefined) delete status.message;
    else status.message = message;
    return status;
  }

  /** Termination and deadlines: every unfinished node fails with the reason, running ones are stopped. */
  #stop(reason: string): Draft<WorkflowStatus> {
    this.#context.executions.cancel(this.#key);
    for (const node of Object.values(this.#nodes)) if (!isCompletedPhase(node.phase)) this.#complete(node, 'Failed', reason);
    return this.#finish('Failed', reason);
  }

  /**
   * Takes the block's locks for the workflow (`nodeId` undefined) or a node, recording holds and waits in
   * `status.synchronization` as Argo does (SPEC §5 rule 5).
   */
  async #acquire(nodeId: string | undefined, synchronization: Synchronization): Promise<Acquisition> {
    const { namespace, name } = this.#workflow.metadata;
    const holderKey = toHolderKey(namespace, name, nodeId);
    const sync = this.#context.sync;
    let items;
    try {
      items = parseSynchronization(synchronization, namespace).items;
    } catch (error) {
      return { error: (error as Error).message };
    }
    if (holdsAll(this.status.synchronization, items, holderKey)) return { acquired: true };
    if (!sync) {
      this.#context.requeueAfter(TRANSIENT_RETRY_MS);
      return { acquired: false, message: 'Waiting to acquire the synchronization lock. the synchronization engine is restarting' };
    }
    try {
      const result = await sync.tryAcquire({
        namespace,
        workflowName: name,
        ...(nodeId === undefined ? {} : { nodeId }),
        priority: this.#workflow.spec.priority ?? 0,
        creationTime: Date.parse(this.#workflow.metadata.creationTimestamp),
        synchronization,
      });
      const statusSync = (this.status.synchronization ??= {});
      if (result.acquired) {
        recordHolding(statusSync, items, result.holds.map((hold) => hold.token), holderKey);
        return { acquired: true };
      }
      const item = items.find((candidate) => candidate.lockName === result.failedLockName);
      if (item) recordWaiting(statusSync, item, result.holders);
      return { acquired: false, message: result.message, failedLockName: result.failedLockName };
    } catch (error) {
      // A database outage passes: the workflow waits for it, as for any transient failure.
      if (error instanceof ApiError && !(error instanceof UnavailableError)) return { error: error.message };
      this.#context.requeueAfter(TRANSIENT_RETRY_MS);
      return { acquired: false, message: `Waiting to acquire the synchronization lock. ${(error as Error).message}` };
    }
  }

  async #release(node: NodeDraft, synchronization: Synchronization): Promise<void> {
    const { namespace, name } = this.#workflow.metadata;
    await this.#context.sync?.release({ namespace, workflowName: name, nodeId: node.id, synchronization });
    if (this.status.synchronization) recordReleased(this.status.synchronization, toHolderKey(namespace, name, node.id));
  }

  #node(nodeName: string, template: Template, parent: NodeDraft | undefined, type: NodeType = nodeTypeOf(template)): NodeDraft {
    const id = nodeIdOf(this.#workflow.metadata.name, nodeName);
    const existing = this.#nodes[id];
    if (existing) return existing;
    const node: NodeDraft = {
      id,
      name: nodeName,
      displayName: parent ? nodeName.slice(parent.name.length).replace(/^\./, '') || nodeName : nodeName,
      type,
      templateName: template.name,
      phase: 'Pending',
      ...(parent ? { boundaryID: parent.type === 'StepGroup' ? parent.boundaryID ?? parent.id : parent.id } : {}),
    };
    this.#nodes[id] = node;
    if (parent) (parent.children ??= []).push(id);
    return node;
  }

  #start(node: NodeDraft): void {
    if (node.phase !== 'Pending') return;
    node.phase = 'Running';
    node.startedAt ??= kubernetesTime(this.#context.now());
  }

  #complete(node: NodeDraft, phase: NodePhase, message?: string): void {
    node.phase = phase;
    node.startedAt ??= kubernetesTime(this.#context.now());
    node.finishedAt = kubernetesTime(this.#context.now());
    if (message === undefined) delete node.message;
    else node.message = message;
  }

  /** Runs (or looks in on) the node `nodeName` of `templateName`; returns it in its current phase. */
  async #execute(nodeName: string, templateName: string, args: Arguments | undefined, parent: NodeDraft | undefined, outer: Scope | undefined): Promise<NodeDraft> {
    const template = this.#templates.get(templateName);
    if (!template) {
      const placeholder = this.#node(nodeName, { name: templateName }, parent, 'Pod');
      this.#complete(placeholder, 'Error', `template ${templateName} not found`);
      return placeholder;
    }
    const node = this.#node(nodeName, template, parent);
    if (isCompletedPhase(node.phase)) return node;
    let scope: Scope;
    try {
      scope = templateScope(outer ?? this.#scope, template, args);
    } catch (error) {
      this.#complete(node, 'Error', (error as Error).message);
      return node;
    }
    if (template.synchronization) {
      const acquisition = await this.#acquire(node.id, template.synchronization);
      if ('error' in acquisition) {
        this.#complete(node, 'Error', acquisition.error);
        return node;
      }
      if (!acquisition.acquired) {
        node.message = acquisition.message;
        if (acquisition.failedLockName) node.synchronizationStatus = { waiting: acquisition.failedLockName };
        return node;
      }
      if (node.synchronizationStatus) {
        delete node.synchronizationStatus;
        delete node.message;
      }
    }
    if (template.steps) await this.#executeSteps(node, template.steps, scope);
    else if (template.dag) await this.#executeDag(node, template.dag.tasks, scope);
    else if (template.suspend) this.#executeSuspend(node, template.suspend.duration);
    else this.#executeLeaf(node, template, scope);
    if (isCompletedPhase(node.phase) && template.synchronization) await this.#release(node, template.synchronization);
    return node;
  }

  #executeLeaf(node: NodeDraft, template: Template, scope: Scope): void {
    const executions = this.#context.executions;
    const result = executions.result(this.#key, node.id);
    if (result) {
      this.#complete(node, result.phase, result.message);
      const outputs = { ...(result.result === undefined ? {} : { result: result.result }), ...(result.exitCode === undefined ? {} : { exitCode: String(result.exitCode) }) };
      if (Object.keys(outputs).length > 0) node.outputs = outputs;
      return;
    }
    this.#start(node);
    if (executions.running(this.#key, node.id)) return;
    const spec = template.script ?? template.container!;
    const { metadata } = this.#workflow;
    executions.start(this.#key, {
      namespace: metadata.namespace,
      workflowName: metadata.name,
      workflowUid: metadata.uid,
      nodeId: node.id,
      container: substituteContainer(spec, scope),
      ...(template.script ? { source: substitute(template.script.source, scope) } : {}),
      ...(template.activeDeadlineSeconds === undefined ? {} : { deadlineSeconds: template.activeDeadlineSeconds }),
    });
  }

  #executeSuspend(node: NodeDraft, duration: string | undefined): void {
    this.#start(node);
    if (duration === undefined) return; // resumes only by termination
    const ms = /^\d+$/.test(duration) ? Number(duration) * 1000 : parseGoDuration(duration) ?? 0;
    const remaining = Date.parse(node.startedAt!) + ms - this.#context.now().getTime();
    if (remaining <= 0) this.#complete(node, 'Succeeded');
    else this.#context.requeueAfter(remaining);
  }

  /** Groups one after the other, the steps of a group in parallel; a failed step fails its group and the rest never start. */
  async #executeSteps(node: NodeDraft, groups: Template['steps'] & object, outer: Scope): Promise<void> {
    this.#start(node);
    const scope = new Map(outer);
    for (const [index, group] of groups.entries()) {
      const groupNode = this.#node(`${node.name}[${index}]`, { name: node.templateName }, node, 'StepGroup');
      this.#start(groupNode);
      const children: NodeDraft[] = [];
      for (const step of group) {
        children.push(await this.#execute(`${groupNode.name}.${step.name}`, step.template, substituteArguments(step.arguments, scope), groupNode, scope));
      }
      if (!children.every((child) => isCompletedPhase(child.phase))) return;
      for (const [position, step] of group.entries()) scope.set(`steps.${step.name}.outputs.result`, children[position]!.outputs?.result ?? '');
      const failed = children.find((child) => FAILED.has(child.phase));
      if (failed) {
        this.#complete(groupNode, 'Failed', `child '${failed.id}' failed`);
        this.#complete(node, 'Failed', `child '${failed.id}' failed`);
        return;
      }
      if (!isCompletedPhase(groupNode.phase)) this.#complete(groupNode, 'Succeeded');
    }
    this.#complete(node, 'Succeeded');
  }

  /** Tasks in dependency order, each once all its dependencies succeeded; a failed dependency omits its dependents. */
  async #executeDag(node: NodeDraft, tasks: NonNullable<Template['dag']>['tasks'], outer: Scope): Promise<void> {
    this.#start(node);
    const scope = new Map(outer);
    const order = orderTasks(tasks);
    if ('cycle' in order) {
      this.#complete(node, 'Error', `dependency cycle ${order.cycle.join(' -> ')}`);
      return;
    }
    const states = new Map<string, 'done' | 'failed' | 'blocked' | 'running'>();
    for (const task of order.ordered) {
      const dependencies = (task.dependencies ?? []).map((name) => states.get(name));
      if (dependencies.some((state) => state === 'failed' || state === 'blocked')) {
        states.set(task.name, 'blocked');
        continue;
      }
      if (dependencies.some((state) => state !== 'done')) {
        states.set(task.name, 'running');
        continue;
      }
      const child = await this.#execute(`${node.name}.${task.name}`, task.template, substituteArguments(task.arguments, scope), node, scope);
      if (isCompletedPhase(child.phase)) scope.set(`tasks.${task.name}.outputs.result`, child.outputs?.result ?? '');
      states.set(task.name, !isCompletedPhase(child.phase) ? 'running' : FAILED.has(child.phase) ? 'failed' : 'done');
    }
    if ([...states.values()].includes('running')) return;
    const failed = tasks.find((task) => states.get(task.name) === 'failed');
    if (failed) this.#complete(node, 'Failed', `child '${nodeIdOf(this.#workflow.metadata.name, `${node.name}.${failed.name}`)}' failed`);
    else this.#complete(node, 'Succeeded');
  }
}
