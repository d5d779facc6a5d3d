import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubernetesExecutor } from '../../runtime/controller/workflows/executors/kubernetes-executor.js';
import type { NodeRun } from '../../runtime/controller/workflows/executors/executor.js';
import { kubeConfigFor, startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.js';

/** The in-process API server runs no kubelet: these tests play it by writing Pod status. */
describe('the kubernetes executor against the in-process API server', () => {
  let server: KubeApiServer;
  let executor: KubernetesExecutor;
  beforeEach(async () => {
    server = await startKubeApiServer();
    executor = new KubernetesExecutor(kubeConfigFor(server), { serviceAccountName: 'runner' });
  });
  afterEach(() => server.close());

  const node: NodeRun = {
    namespace: 'team-a',
    workflowName: 'wf',
    workflowUid: 'uid-1',
    nodeId: 'wf-1234',
    container: { image: 'busybox', command: ['sh', '-c'], args: ['echo hi'], env: [{ name: 'A', value: '1' }] },
    deadlineSeconds: 60,
  };

  const podCreated = async (name = node.nodeId) => {
    await expect.poll(() => server.get('pods', 'team-a', name) !== undefined).toBe(true);
    return server.get('pods', 'team-a', name)!;
  };

  const finish = (phase: 'Succeeded' | 'Failed', extra: Record<string, unknown> = {}) => {
    const pod = server.get('pods', 'team-a', node.nodeId)!;
    server.seed('pods', { ...pod, status: { phase, ...extra } });
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
    const running = server.get('pods', 'team-a', node.nodeId)!;
    server.seed('pods', { ...running, status: { phase: 'Running' } });
    finish('Succeeded', { containerStatuses: [{ name: 'main', state: { terminated: { exitCode: 0 } } }] });
    expect(await result).toEqual({ phase: 'Succeeded', exitCode: 0 });
    await executor.cleanup('team-a', 'wf');
    expect(server.list('pods', 'team-a')).toEqual([]);
  });

  it("reports a failed container's exit code and a deadline as Argo words them", async () => {
    const failed = executor.run(node, new AbortController().signal);
    await podCreated();
    finish('Failed', { containerStatuses: [{ name: 'main', state: { terminated: { exitCode: 2 } } }] });
    expect(await failed).toEqual({ phase: 'Failed', message: 'Error (exit code 2)', exitCode: 2 });
    server.remove('pods', 'team-a', node.nodeId);

    const late = executor.run(node, new AbortController().signal);
    await podCreated();
    finish('Failed', { reason: 'DeadlineExceeded' });
    expect(await late).toEqual({ phase: 'Failed', message: 'Pod was active on the node longer than the specified deadline' });
  });

  it('re-attaches to the Pod of a node started before a restart, and survives a dropped watch', async () => {
    server.seed('pods', { metadata: { namespace: 'team-a', name: node.nodeId }, spec: { containers: [{ name: 'main', image: 'busybox' }] }, status: { phase: 'Running' } });
    const result = executor.run(node, new AbortController().signal);
    await expect.poll(() => server.dropWatches()).toBeGreaterThan(0);
    finish('Succeeded');
    expect(await result).toEqual({ phase: 'Succeeded' });
    expect(server.list('pods', 'team-a')).toHaveLength(1);
  });

  it('deletes the Pod when the node is stopped', async () => {
    const stop = new AbortController();
    const result = executor.run(node, stop.signal);
    await podCreated();
    stop.abort();
    expect(await result).toEqual({ phase: 'Failed', message: 'terminated' });
    await expect.poll(() => server.get('pods', 'team-a', node.nodeId)).toBeUndefined();
  });
});
