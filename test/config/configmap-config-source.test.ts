import { afterEach, beforeEach, expect, it } from 'vitest';
import { ConfigMapConfigSource } from '../../runtime/config/configmap-config-source.js';
import type { RuntimeConfig } from '../../runtime/config/runtime-config.js';
import { KubernetesConfigMapStore } from '../../runtime/store/kubernetes-configmap-store.js';
import { describeEachKubeTarget, openCluster, type Cluster } from '../support/kube-targets.js';

describeEachKubeTarget('the argosync-config ConfigMap as configuration source (%s)', (target) => {
  let cluster: Cluster;
  let namespace: string;
  let source: ConfigMapConfigSource;
  const stops: (() => void)[] = [];

  beforeEach(async () => {
    cluster = await openCluster(target);
    namespace = await cluster.namespace('argo');
    source = new ConfigMapConfigSource(new KubernetesConfigMapStore(cluster.kubeConfig()), namespace, { env: {}, hostname: 'test-host' });
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
    await cluster.close();
  });
  const configData = async () => (await cluster.get('configmaps', namespace, 'argosync-config'))?.data;

  it('reads a missing ConfigMap as the empty configuration, and creates it on save, keeping other keys on later saves', async () => {
    expect((await source.load()).synchronization.pollSeconds).toBe(10);
    await source.save({ synchronization: { pollSeconds: 3 } });
    expect(await configData()).toEqual({ config: 'synchronization:\n  pollSeconds: 3\n' });
    await cluster.seed('configmaps', { metadata: { namespace, name: 'argosync-config' }, data: { config: 'synchronization:\n  pollSeconds: 3\n', note: 'kept' } });
    await source.save({ synchronization: { pollSeconds: 4 } });
    expect(await configData()).toEqual({ config: 'synchronization:\n  pollSeconds: 4\n', note: 'kept' });
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
    await cluster.seed('configmaps', { metadata: { namespace, name: 'argosync-config' }, data: { config: 'synchronization:\n  pollSeconds: 7\n' } });
    await arrived;
    expect(source.current?.synchronization.pollSeconds).toBe(7);

    arrived = next();
    await cluster.seed('configmaps', { metadata: { namespace, name: 'argosync-config' }, data: { config: 'synchronization:\n  pollSecs: 7\n' } });
    await arrived;
    expect(rejections.at(-1)?.message).toBe(`invalid configuration in configmap ${namespace}/argosync-config key config: synchronization.pollSecs: unknown key (did you mean pollSeconds?)`);
    expect(source.current?.synchronization.pollSeconds).toBe(7);
  });
});
