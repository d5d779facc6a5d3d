import { afterEach, beforeEach, expect, it } from 'vitest';
import { KubernetesExecutor } from '../../runtime/controller/workflows/executors/kubernetes-executor.js';
import type { NodeRun } from '../../runtime/controller/workflows/executors/executor.js';
import { describeEachKubeTarget, openCluster, type Cluster } from '../support/kube-targets.js';

/**
 * No kubelet runs these Pods (the in-process server has none; on k3s the global set-up taints the node, so they
 * stay unscheduled): the tests play it by writing Pod status.
 */
describeEachKubeTarget('the kubernetes executor on %s', (target) => {
  let cluster: Cluster;
  let executor: KubernetesExecutor;
  let namespace: string;
  let node: NodeRun;
  beforeEach(async () => {
    cluster = await openCluster(target);
    namespace = await cluster.namespace('team-a');
    // A real API server admits a Pod only when its ServiceAccount exists.
    await cluster.seed('serviceaccounts', { metadata: { namespace, name: 'runner' } });
    node = { ...NODE, namespace };
    executor = new KubernetesExecutor(cluster.kubeConfig(), { serviceAccountName: 'runner' });
  });
  afterEach(() => cluster.close());

  const NODE: NodeRun = {
    namespace: '',
    workflowName: 'wf',
    workflowUid: 'uid-1',
    nodeId: 'wf-1234',
    container: { image: 'busybox', command: ['sh', '-c'], args: ['echo hi'], env: [{ name: 'A', value: '1' }] },
    deadlineSeconds: 60,
  };

  const podCreated = async () => {
    await expect.poll(async () => (await cluster.get('pods', namespace, node.nodeId)) !== undefined).toBe(true);
    return (await cluster.get('pods', namespace, node.nodeId))!;
  };

  const finish = async (phase: 'Succeeded' | 'Failed', extra: Record<string, unknown> = {}) => {
    const pod = (await cluster.get('pods', namespace, node.nodeId))!;
    await cluster.seed('pods', { ...pod, status: { phase, ...extra } });
  };

  it('creates one Pod per node with the template, watches it to success and deletes the workflow Pods on cleanup', async () => {
    const result = executor.run(node, new AbortController().signal);
    const pod = await podCreated();
    expect(pod).toMatchObject({
      metadata: { labels: { 'workflows.argoproj.io/workflow': 'wf' } },
      spec: {
        restartPolicy: 'Never',
        serviceAccountName: 'runner',
        activeDeadlineSeconds: 60,
        containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c'], args: ['echo hi'], env: [{ name: 'A', value: '1' }] }],
      },
    });
    await cluster.seed('pods', { ...pod, status: { phase: 'Running' } });
    await finish('Succeeded', { containerStatuses: [{ name: 'main', state: { terminated: { exitCode: 0 } } }] });
    expect(await result).toEqual({ phase: 'Succeeded', exitCode: 0 });
    await executor.cleanup(namespace, 'wf');
    expect(await cluster.list('pods', namespace)).toEqual([]);
  });

  it("reports a failed container's exit code and a deadline as Argo words them", async () => {
    const failed = executor.run(node, new AbortController().signal);
    await podCreated();
    await finish('Failed', { containerStatuses: [{ name: 'main', state: { terminated: { exitCode: 2 } } }] });
    expect(await failed).toEqual({ phase: 'Failed', message: 'Error (exit code 2)', exitCode: 2 });
    await cluster.remove('pods', namespace, node.nodeId);

    const late = executor.run(node, new AbortController().signal);
    await podCreated();
    await finish('Failed', { reason: 'DeadlineExceeded' });
    expect(await late).toEqual({ phase: 'Failed', message: 'Pod was active on the node longer than the specified deadline' });
  });

  // In-process only: a real API server cannot be made to cut its watches on demand.
  it.runIf(target === 'in-process')('re-attaches to the Pod of a node started before a restart, and survives a dropped watch', async () => {
    await cluster.seed('pods', { metadata: { namespace, name: node.nodeId }, spec: { containers: [{ name: 'main', image: 'busybox' }] }, status: { phase: 'Running' } });
    const result = executor.run(node, new AbortController().signal);
    await expect.poll(() => cluster.inProcess?.dropWatches()).toBeGreaterThan(0);
    await finish('Succeeded');
    expect(await result).toEqual({ phase: 'Succeeded' });
    expect(await cluster.list('pods', namespace)).toHaveLength(1);
  });

  it('deletes the Pod when the node is stopped', async () => {
    const stop = new AbortController();
    const result = executor.run(node, stop.signal);
    await podCreated();
    stop.abort();
    expect(await result).toEqual({ phase: 'Failed', message: 'terminated' });
    await expect.poll(() => cluster.get('pods', namespace, node.nodeId)).toBeUndefined();
  });
});
