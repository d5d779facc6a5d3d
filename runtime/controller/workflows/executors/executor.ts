import type { ExecutorName } from '../../../config/runtime-config.js';
import type { Container } from '../workflow.js';

/** One leaf node to run: a container or script template with its parameters already substituted. */
export interface NodeRun {
  readonly namespace: string;
  readonly workflowName: string;
  readonly workflowUid: string;
  /** Unique per workflow and stable across controller restarts: re-running the same node re-attaches. */
  readonly nodeId: string;
  readonly container: Container;
  /** A script template's `source`: run with the container's command (default `sh`) as its last argument. */
  readonly source?: string;
  /** The template's `activeDeadlineSeconds`: the node fails once it has run that long. */
  readonly deadlineSeconds?: number;
}

export interface NodeResult {
  readonly phase: 'Succeeded' | 'Failed' | 'Error';
  /** Why it failed, Argo-style, e.g. `Error (exit code 1)` or `Pod was active on the node longer than the specified deadline`. */
  readonly message?: string;
  readonly exitCode?: number;
  /** Standard output, trimmed, at most 256 KiB (Argo's `outputs.result`). */
  readonly result?: string;
}

/**
 * Runs leaf nodes (SPEC §6). `run` resolves when the node ends; aborting the signal (termination, deletion,
 * shutdown of the workflow) stops it and resolves with phase `Failed` and message `terminated`. Running the
 * same node twice (after a controller restart) re-attaches when the executor can, else starts it again.
 */
export interface Executor {
  readonly name: ExecutorName;
  run(node: NodeRun, signal: AbortSignal): Promise<NodeResult>;
  /**
   * Removes whatever the workflow's nodes left behind (the kubernetes executor's Pods, the local executor's
   * files). `workflowUid` is undefined when the workflow is already gone from the store.
   */
  cleanup(namespace: string, workflowName: string, workflowUid: string | undefined): Promise<void>;
}
