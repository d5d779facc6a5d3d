import type { Workflow } from '../workflows/workflow.js';

export interface ArchiveListOptions {
  readonly namespace?: string;
  /** Kubernetes' string form, e.g. `team=a`. */
  readonly labelSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
}

/**
 * The workflow archive (SPEC §6, argo-reference §8.3): completed workflows kept in `argo_archived_workflows`
 * of the persistence database, with their labels, until `archiveTTL`.
 */
export interface WorkflowArchive {
  /** Stores the completed (hydrated) workflow, replacing an earlier row with the same uid. */
  archive(workflow: Workflow): Promise<void>;
  /** Newest first (startedAt descending). */
  list(options?: ArchiveListOptions): Promise<{ readonly items: readonly Workflow[]; readonly continue?: string }>;
  get(uid: string): Promise<Workflow | undefined>;
  /** True when a row was deleted. */
  delete(uid: string): Promise<boolean>;
  /** Deletes rows finished longer than `ttlMs` ago; returns how many. */
  collectExpired(ttlMs: number): Promise<number>;
}
