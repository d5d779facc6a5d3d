import type { Executor, NodeResult, NodeRun } from './executors/executor.js';
import type { NodeExecutions } from './workflow-operation.js';

interface Execution {
  readonly abort: AbortController;
  result?: NodeResult;
}

/** Leaf nodes running through an executor; each end re-queues its workflow. Results stay until the workflow ends. */
export class ExecutorNodeExecutions implements NodeExecutions {
  readonly #executor: Executor;
  readonly #onEnded: (workflowKey: string) => void;
  readonly #byWorkflow = new Map<string, Map<string, Execution>>();

  constructor(executor: Executor, onEnded: (workflowKey: string) => void) {
    this.#executor = executor;
    this.#onEnded = onEnded;
  }

  start(workflowKey: string, run: NodeRun): void {
    let executions = this.#byWorkflow.get(workflowKey);
    if (!executions) this.#byWorkflow.set(workflowKey, (executions = new Map()));
    if (executions.has(run.nodeId)) return;
    const execution: Execution = { abort: new AbortController() };
    executions.set(run.nodeId, execution);
    this.#executor
      .run(run, execution.abort.signal)
      .then(
        (result) => (execution.result = result),
        (error: unknown) => (execution.result = { phase: 'Error', message: `executor ${this.#executor.name} failed: ${(error as Error).message}` }),
      )
      .finally(() => this.#onEnded(workflowKey));
  }

  running(workflowKey: string, nodeId: string): boolean {
    const execution = this.#byWorkflow.get(workflowKey)?.get(nodeId);
    return execution !== undefined && execution.result === undefined;
  }

  result(workflowKey: string, nodeId: string): NodeResult | undefined {
    return this.#byWorkflow.get(workflowKey)?.get(nodeId)?.result;
  }

  /** Stops the workflow's running nodes and forgets its results. */
  cancel(workflowKey: string): void {
    for (const execution of this.#byWorkflow.get(workflowKey)?.values() ?? []) execution.abort.abort();
    this.#byWorkflow.delete(workflowKey);
  }

  cancelAll(): void {
    for (const workflowKey of [...this.#byWorkflow.keys()]) this.cancel(workflowKey);
  }
}
