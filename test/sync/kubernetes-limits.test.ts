import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesConfigMapStore } from '../../runtime/store/kubernetes-configmap-store.js';
import type { Synchronization } from '../../runtime/controller/sync/sync-items.js';
import { kubeConfigFor, startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.js';
import { startController, type TestController } from '../support/sync-controllers.js';

describe('ConfigMap semaphores whose limits live in Kubernetes ConfigMaps', () => {
  let kube: KubeApiServer;
  let controller: TestController;
  const semaphore: Synchronization = { semaphores: [{ configMapKeyRef: { name: 'limits', key: 'gpu' } }] };

  beforeAll(async () => {
    kube = await startKubeApiServer();
    controller = await startController({ configMaps: new KubernetesConfigMapStore(kubeConfigFor(kube)) });
  });
  afterAll(async () => {
    await controller.stop();
    await kube.close();
  });

  it('waits for the ConfigMap, is woken by the watch when it appears, and follows edits made with kubectl', async () => {
    expect(await controller.acquire({ name: 'a' }, semaphore)).toMatchObject({ acquired: false, message: expect.stringContaining('ConfigMap ns/limits does not exist') });
    let woken = controller.wakes.next('ns/a');
    kube.seed('configmaps', { metadata: { namespace: 'ns', name: 'limits' }, data: { gpu: '1' } });
    await woken;
    expect((await controller.acquire({ name: 'a' }, semaphore)).acquired).toBe(true);
    expect((await controller.acquire({ name: 'b' }, semaphore)).acquired).toBe(false);

    // Raising the limit out of band (as `kubectl edit` would) admits the waiter at once.
    woken = controller.wakes.next('ns/b');
    kube.seed('configmaps', { metadata: { namespace: 'ns', name: 'limits' }, data: { gpu: '2' } });
    await woken;
    expect((await controller.acquire({ name: 'b' }, semaphore)).acquired).toBe(true);
  });
});
