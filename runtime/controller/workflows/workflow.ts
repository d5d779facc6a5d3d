import type { Synchronization } from '../sync/sync-items.js';

/** Argo's manifest shape (SPEC §6), the subset argosync runs. */
export interface Workflow {
  readonly apiVersion: 'argoproj.io/v1alpha1';
  readonly kind: 'Workflow';
  readonly metadata: WorkflowMetadata;
  readonly spec: WorkflowSpec;
  readonly status?: WorkflowStatus;
}

export interface WorkflowMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly generateName?: string;
  readonly uid: string;
  /** RFC 3339, second precision as Kubernetes writes it. */
  readonly creationTimestamp: string;
  readonly resourceVersion: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface Parameter {
  readonly name: string;
  readonly value?: string;
}

export interface Arguments {
  readonly parameters?: readonly Parameter[];
}

export interface WorkflowSpec {
  readonly entrypoint: string;
  readonly arguments?: Arguments;
  /** Queue priority (higher first), Argo's `spec.priority`. */
  readonly priority?: number;
  readonly synchronization?: Synchronization;
  readonly templates: readonly Template[];
  readonly activeDeadlineSeconds?: number;
  /** Set by `terminate`: Argo's shutdown strategy. */
  readonly shutdown?: 'Terminate' | 'Stop';
}

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
}

export interface Container {
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly workingDir?: string;
}

export interface Script extends Container {
  readonly source: string;
}

/** A step or DAG task: which template to run, with what arguments. */
export interface WorkflowStep {
  readonly name: string;
  readonly template: string;
  readonly arguments?: Arguments;
}

export interface DagTask extends WorkflowStep {
  readonly dependencies?: readonly string[];
}

export interface Template {
  readonly name: string;
  readonly inputs?: { readonly parameters?: readonly Parameter[] };
  readonly container?: Container;
  readonly script?: Script;
  /** Groups run one after the other; the steps of a group run in parallel. */
  readonly steps?: readonly (readonly WorkflowStep[])[];
  readonly dag?: { readonly tasks: readonly DagTask[] };
  readonly suspend?: { readonly duration?: string };
  readonly synchronization?: Synchronization;
  readonly activeDeadlineSeconds?: number;
}

export type WorkflowPhase = '' | 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Error';
export type NodePhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Error' | 'Skipped' | 'Omitted';
export type NodeType = 'Pod' | 'Steps' | 'StepGroup' | 'DAG' | 'Suspend' | 'Skipped';

export const COMPLETED_PHASES: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'Error']);

export interface NodeStatus {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly type: NodeType;
  readonly templateName: string;
  readonly phase: NodePhase;
  readonly boundaryID?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly message?: string;
  readonly children?: readonly string[];
  readonly outputs?: { readonly result?: string; readonly exitCode?: string };
  /** The lock this node waits for (Argo's `synchronizationStatus.waiting`). */
  readonly synchronizationStatus?: { readonly waiting?: string };
}

export interface SemaphoreHolding {
  readonly semaphore: string;
  readonly holders: readonly string[];
}

export interface MutexHolding {
  readonly mutex: string;
  readonly holder: string;
}

/** Argo's `status.synchronization`, plus argosync's fencing tokens per lock. */
export interface SynchronizationStatus {
  readonly semaphore?: { readonly holding?: readonly SemaphoreHolding[]; readonly waiting?: readonly SemaphoreHolding[] };
  readonly mutex?: { readonly holding?: readonly MutexHolding[]; readonly waiting?: readonly MutexHolding[] };
  readonly fencingTokens?: Readonly<Record<string, number>>;
}

export interface WorkflowStatus {
  readonly phase: WorkflowPhase;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly message?: string;
  /** Null when the nodes are compressed or offloaded, as Argo writes it. */
  readonly nodes?: Readonly<Record<string, NodeStatus>> | null;
  readonly synchronization?: SynchronizationStatus;
  /** base64 of the compressed JSON of `nodes` (SPEC §6). */
  readonly compressedNodes?: string;
  /** `fnv:<hash>` of the nodes row in the offload table. */
  readonly offloadNodeStatusVersion?: string;
}

/** Argo's labels on workflows: set `true` once completed (`false` on a running workflow's Pods). */
export const COMPLETED_LABEL = 'workflows.argoproj.io/completed';
/** Argo's archiving progress label: `Pending` when completed and selected, `Archived` once written, `Persisted` in the archive. */
export const ARCHIVING_STATUS_LABEL = 'workflows.argoproj.io/workflow-archiving-status';

/** `<namespace>/<name>`, the workflow key of Argo's queues and of holder keys. */
export function workflowKey(workflow: Pick<Workflow, 'metadata'>): string {
  return `${workflow.metadata.namespace}/${workflow.metadata.name}`;
}

export function isCompletedPhase(phase: string | undefined): boolean {
  return phase !== undefined && COMPLETED_PHASES.has(phase);
}

export function isCompleted(workflow: Pick<Workflow, 'status'>): boolean {
  return isCompletedPhase(workflow.status?.phase);
}

/** A copy of a status the controller may change in place. */
export type Draft<T> = T extends readonly (infer U)[] ? Draft<U>[] : T extends object ? { -readonly [K in keyof T]: Draft<T[K]> } : T;

/** Kubernetes' timestamp form: RFC 3339 in UTC with second precision. */
export function kubernetesTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
