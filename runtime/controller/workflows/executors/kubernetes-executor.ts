import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { kubernetesStatusCode } from '../../../kubernetes-status.js';
import { COMPLETED_LABEL } from '../workflow.js';
import type { Executor, NodeResult, NodeRun } from './executor.js';

export const WORKFLOW_LABEL = 'workflows.argoproj.io/workflow';
const NODE_ANNOTATION = 'workflows.argoproj.io/node-id';
const RESYNC_DELAY_MS = 200;
const DEADLINE_MESSAGE = 'Pod was active on the node longer than the specified deadline';

/** A finished Pod's result, or undefined while it runs. */
export function podResult(pod: V1Pod): NodeResult | undefined {
  const phase = pod.status?.phase;
  if (phase !== 'Succeeded' && phase !== 'Failed') return undefined;
  const terminated = pod.status?.containerStatuses?.find((status) => status.name === 'main')?.state?.terminated;
  const exitCode = terminated?.exitCode;
  if (phase === 'Succeeded') return { phase: 'Succeeded', ...(exitCode === undefined ? {} : { exitCode }) };
  if (pod.status?.reason === 'DeadlineExceeded') return { phase: 'Failed', message: DEADLINE_MESSAGE };
  const message = exitCode !== undefined ? `Error (exit code ${exitCode})` : pod.status?.message ?? pod.status?.reason ?? 'Error';
  return { phase: 'Failed', message, ...(exitCode === undefined ? {} : { exitCode }) };
}

/**
 * Runs each leaf node as a Pod named after the node (SPEC §6), watches it to completion and deletes the
 * workflow's Pods when it ends. A Pod that already exists (after a controller restart) is re-attached.
 */
export class KubernetesExecutor implements Executor {
  readonly name = 'kubernetes';
  readonly #api: CoreV1Api;
  readonly #watch: Watch;
  readonly #serviceAccountName: string | undefined;

  constructor(kubeConfig: KubeConfig, options: { readonly serviceAccountName?: string } = {}) {
    this.#api = kubeConfig.makeApiClient(CoreV1Api);
    this.#watch = new Watch(kubeConfig);
    this.#serviceAccountName = options.serviceAccountName;
  }

  async run(node: NodeRun, signal: AbortSignal): Promise<NodeResult> {
    const namespace = node.namespace;
    let pod: V1Pod;
    try {
      pod = await this.#api.createNamespacedPod({ namespace, body: this.#podFor(node) });
    } catch (error) {
      if (kubernetesStatusCode(error) !== 409) return { phase: 'Error', message: `cannot create pod ${node.nodeId}: ${(error as Error).message}` };
      pod = await this.#api.readNamespacedPod({ namespace, name: node.nodeId });
    }
    const onAbort = () => void this.#api.deleteNamespacedPod({ namespace, name: node.nodeId }).catch(() => undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        if (signal.aborted) return { phase: 'Failed', message: 'terminated' };
        const done = podResult(pod);
        if (done) return done;
        const next = await this.#nextChange(pod, signal);
        if (next === 'deleted') return signal.aborted ? { phase: 'Failed', message: 'terminated' } : { phase: 'Error', message: `pod ${node.nodeId} was deleted` };
        pod = next;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async cleanup(namespace: string, workflowName: string): Promise<void> {
    const pods = await this.#api.listNamespacedPod({ namespace, labelSelector: `${WORKFLOW_LABEL}=${workflowName}` });
    for (const pod of pods.items) {
      await this.#api.deleteNamespacedPod({ namespace, name: pod.metadata!.name! }).catch((error: unknown) => {
        if (kubernetesStatusCode(error) !== 404) throw error;
      });
    }
  }

  #podFor(node: NodeRun): V1Pod {
    const { container } = node;
    const command = node.source === undefined ? container.command : [...(container.command ?? ['sh']), '-c', node.source];
    return {
      metadata: { name: node.nodeId, namespace: node.namespace, labels: { [WORKFLOW_LABEL]: node.workflowName, [COMPLETED_LABEL]: 'false' }, annotations: { [NODE_ANNOTATION]: node.nodeId } },
      spec: {
        restartPolicy: 'Never',
        ...(this.#serviceAccountName ? { serviceAccountName: this.#serviceAccountName } : {}),
        ...(node.deadlineSeconds === undefined ? {} : { activeDeadlineSeconds: node.deadlineSeconds }),
        containers: [
          {
            name: 'main',
            image: container.image,
            ...(command ? { command: [...command] } : {}),
            ...(node.source === undefined && container.args ? { args: [...container.args] } : {}),
            ...(container.env ? { env: container.env.map((variable) => ({ name: variable.name, value: variable.value ?? '' })) } : {}),
            ...(container.workingDir ? { workingDir: container.workingDir } : {}),
          },
        ],
      },
    };
  }

  /** The Pod's next version after `pod`, or `deleted`; re-reads the Pod when the watch ends without news. */
  async #nextChange(pod: V1Pod, signal: AbortSignal): Promise<V1Pod | 'deleted'> {
    const namespace = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const change = await new Promise<V1Pod | 'deleted' | undefined>((resolve) => {
      let settled = false;
      let abortRequest: (() => void) | undefined;
      const settle = (value: V1Pod | 'deleted' | undefined) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        abortRequest?.();
        resolve(value);
      };
      const onAbort = () => settle(undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#watch
        .watch(
          `/api/v1/namespaces/${namespace}/pods`,
          { fieldSelector: `metadata.name=${name}`, resourceVersion: pod.metadata!.resourceVersion, allowWatchBookmarks: false },
          (type, object: V1Pod) => {
            if (type === 'DELETED') settle('deleted');
            else if (type === 'MODIFIED' || type === 'ADDED') settle(object);
          },
          () => settle(undefined),
        )
        .then((request) => {
          abortRequest = () => request.abort();
          if (settled) request.abort();
        })
        .catch(() => settle(undefined));
    });
    if (change !== undefined) return change;
    // The watch ended without news (timeout, network): look again, without spinning on a failing server.
    if (!signal.aborted) await sleep(RESYNC_DELAY_MS);
    try {
      return await this.#api.readNamespacedPod({ namespace, name });
    } catch (error) {
      if (kubernetesStatusCode(error) === 404) return 'deleted';
      throw error;
    }
  }
}
