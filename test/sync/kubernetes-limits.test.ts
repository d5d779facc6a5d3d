import { afterAll, beforeAll, expect, it } from 'vitest';
import { KubernetesConfigMapStore } from '../../runtime/store/kubernetes-configmap-store.js';
import type { Synchronization } from '../../runtime/controller/sync/sync-items.js';
import { describeEachKubeTarget, openCluster, type Cluster } from '../support/kube-targets.js';
import { startController, type TestController } from '../support/sync-controllers.js';

describeEachKubeTarget('ConfigMap semaphores whose limits live in Kubernetes ConfigMaps (%s)', (target) => {
  let cluster: Cluster;
  let namespace: string;
  let controller: TestController;
  const semaphore: Synchronization = { semaphores: [{ configMapKeyRef: { name: 'limits', key: 'gpu' } }] };

  beforeAll(async () => {
    cluster = await openCluster(target);
    namespace = await cluster.namespace('ns');
    controller = await startController({ configMaps: new KubernetesConfigMapStore(cluster.kubeConfig()) });
  });
  afterAll(async () => {
    await controller?.stop();
    await cluster?.close();
  });

  it('waits for the ConfigMap, is woken by the watch when it appears, and follows edits made with kubectl', async () => {
    const [a, b] = [{ name: 'a', namespace }, { name: 'b', namespace }];
    expect(await controller.acquire(a, semaphore)).toMatchObject({ acquired: false, message: expect.stringContaining(`ConfigMap ${namespace}/limits does not exist`) });
    let woken = controller.wakes.next(`${namespace}/a`);
    await cluster.seed('configmaps', { metadata: { namespace, name: 'limits' }, data: { gpu: '1' } });
    await woken;
    expect((await controller.acquire(a, semaphore)).acquired).toBe(true);
    expect((await controller.acquire(b, semaphore)).acquired).toBe(false);

    // Raising the limit out of band (as `kubectl edit` would) admits the waiter at once.
    woken = controller.wakes.next(`${namespace}/b`);
    await cluster.seed('configmaps', { metadata: { namespace, name: 'limits' }, data: { gpu: '2' } });
    await woken;
    expect((await controller.acquire(b, semaphore)).acquired).toBe(true);
  });
});
