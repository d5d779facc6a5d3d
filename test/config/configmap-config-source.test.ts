import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigMapConfigSource } from '../../runtime/config/configmap-config-source.js';
import type { RuntimeConfig } from '../../runtime/config/runtime-config.js';
import { KubernetesConfigMapStore } from '../../runtime/store/kubernetes-configmap-store.js';
import { kubeConfigFor, startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.js';

describe('the argosync-config ConfigMap as configuration source', () => {
  let kube: KubeApiServer;
  let source: ConfigMapConfigSource;
  const stops: (() => void)[] = [];

  beforeEach(async () => {
    kube = await startKubeApiServer();
    source = new ConfigMapConfigSource(new KubernetesConfigMapStore(kubeConfigFor(kube)), 'argo', { env: {}, hostname: 'test-host' });
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
    await kube.close();
  });

  it('reads a missing ConfigMap as the empty configuration, and creates it on save, keeping other keys on later saves', async () => {
    expect((await source.load()).synchronization.pollSeconds).toBe(10);
    await source.save({ synchronization: { pollSeconds: 3 } });
    expect(kube.get('configmaps', 'argo', 'argosync-config')?.data).toEqual({ config: 'synchronization:\n  pollSeconds: 3\n' });
    kube.seed('configmaps', { metadata: { namespace: 'argo', name: 'argosync-config' }, data: { config: 'synchronization:\n  pollSeconds: 3\n', note: 'kept' } });
    await source.save({ synchronization: { pollSeconds: 4 } });
    expect(kube.get('configmaps', 'argo', 'argosync-config')?.data).toEqual({ config: 'synchronization:\n  pollSeconds: 4\n', note: 'kept' });
  });

  it('applies kubectl edits live and reports a bad one while keeping the last good configuration', async () => {
    await source.load();
    const changes: RuntimeConfig[] = [];
    const rejections: Error[] = [];
    let settle = (): void => undefined;
    stops.push(
      await source.watch(
        (config) => {
          changes.push(config);
          settle();
        },
        (error) => {
          rejections.push(error);
          settle();
        },
      ),
    );
    const next = () => new Promise<void>((resolve) => (settle = resolve));

    let arrived = next();
    kube.seed('configmaps', { metadata: { namespace: 'argo', name: 'argosync-config' }, data: { config: 'synchronization:\n  pollSeconds: 7\n' } });
    await arrived;
    expect(source.current?.synchronization.pollSeconds).toBe(7);

    arrived = next();
    kube.seed('configmaps', { metadata: { namespace: 'argo', name: 'argosync-config' }, data: { config: 'synchronization:\n  pollSecs: 7\n' } });
    await arrived;
    expect(rejections.at(-1)?.message).toBe('invalid configuration in configmap argo/argosync-config key config: synchronization.pollSecs: unknown key (did you mean pollSeconds?)');
    expect(source.current?.synchronization.pollSeconds).toBe(7);
  });
});
