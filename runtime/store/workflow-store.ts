import type { Workflow, WorkflowMetadata } from '../controller/workflows/workflow.js';

/** What a client submits: the manifest without the fields the store assigns. */
export type NewWorkflow = Omit<Workflow, 'metadata' | 'status'> & {
  readonly metadata: Omit<WorkflowMetadata, 'uid' | 'creationTimestamp' | 'resourceVersion' | 'name'> & { readonly name?: string };
};

export interface WorkflowListOptions {
  /** Undefined lists every namespace. */
  readonly namespace?: string;
  /** Kubernetes' string form, e.g. `team=a,tier in (gold)`. */
  readonly labelSelector?: string;
  readonly limit?: number;
  /** The `continue` token of the previous page. */
  readonly continue?: string;
  /** Only workflows not yet Succeeded, Failed or Error (the controller's work list). */
  readonly unfinished?: boolean;
}

export interface WorkflowList {
  /** Newest first (creation time descending, then name), as Argo lists. */
  readonly items: readonly Workflow[];
  /** Set when more items follow. */
  readonly continue?: string;
}

export interface WorkflowEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly namespace: string;
  readonly name: string;
}

/**
 * Workflows in the state store (SPEC §6), with Kubernetes semantics: `metadata.generateName` gets a random
 * suffix, `uid`, `creationTimestamp` and `resourceVersion` are assigned, updates are checked against
 * `resourceVersion`, and watchers hear every change (in this process at once, other processes on the same
 * PostgreSQL through LISTEN/NOTIFY, and the rest by the controller's periodic resync).
 */
export interface WorkflowStore {
  /** 409 `workflows.argoproj.io "<name>" already exists` when the name is taken. */
  create(workflow: NewWorkflow): Promise<Workflow>;
  get(namespace: string, name: string): Promise<Workflow | undefined>;
  list(options?: WorkflowListOptions): Promise<WorkflowList>;
  /**
   * Replaces the stored document when `metadata.resourceVersion` is still the stored one (else ConflictError,
   * 409 with Kubernetes' text); 404 NotFoundError `workflows.argoproj.io "<name>" not found` when gone.
   */
  update(workflow: Workflow): Promise<Workflow>;
  /** The deleted workflow, or undefined when there was none. */
  delete(namespace: string, name: string): Promise<Workflow | undefined>;
  /** Resolves once changes from other processes are heard too; the result stops watching. */
  watch(listener: (event: WorkflowEvent) => void): Promise<() => void>;
  close(): Promise<void>;
}
