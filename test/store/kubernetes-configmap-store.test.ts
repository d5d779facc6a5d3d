import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnauthenticatedError } from '../../runtime/errors.js';
import { KubernetesConfigMapStore } from '../../runtime/store/kubernetes-configmap-store.js';
import { kubeConfigFor, startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.js';
import { describeEachKubeTarget, openCluster, type Cluster } from '../support/kube-targets.js';
import { describeConfigMapStore, recorder } from './configmap-store.suite.js';

describeEachKubeTarget('ConfigMaps through the Kubernetes API (%s)', (target) => {
  describeConfigMapStore(`Kubernetes API (${target})`, async () => {
    const cluster = await openCluster(target);
    return { store: new KubernetesConfigMapStore(cluster.kubeConfig()), namespace: (prefix) => cluster.namespace(prefix), close: () => cluster.close() };
  });

  describe('KubernetesConfigMapStore against the API server', () => {
    let cluster: Cluster;
    let store: KubernetesConfigMapStore;
    let namespace: string;
    beforeEach(async () => {
      cluster = await openCluster(target);
      store = new KubernetesConfigMapStore(cluster.kubeConfig());
      namespace = await cluster.namespace('argo');
    });
    afterEach(() => cluster.close());

    it('writes real ConfigMaps, sending the resourceVersion it was given', async () => {
      const created = await store.create({ namespace, name: 'limits', data: { gpu: '1' }, labels: { app: 'argosync' } });
      expect(await cluster.get('configmaps', namespace, 'limits')).toMatchObject({ metadata: { labels: { app: 'argosync' }, resourceVersion: created.resourceVersion }, data: { gpu: '1' } });
      // Someone else writes in between: the store's version is now stale, and the server says so.
      await cluster.seed('configmaps', { metadata: { namespace, name: 'limits' }, data: { gpu: '7' } });
      await expect(store.update({ ...created, data: { gpu: '2' } })).rejects.toThrow(/^Operation cannot be fulfilled on configmaps "limits"/);
      const fresh = await store.get(namespace, 'limits');
      const updated = await store.update({ ...fresh!, data: { gpu: '2' } });
      expect((await cluster.get('configmaps', namespace, 'limits'))?.metadata?.resourceVersion).toBe(updated.resourceVersion);
    });

    it("passes the server's validation text through", async () => {
      const error = await store.create({ namespace, name: 'limits.', data: {} }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(/^ConfigMap "limits\." is invalid: metadata\.name: Invalid value: "limits\.": a lowercase RFC 1123 subdomain/);
    });

    it('reports a refused token as UnauthenticatedError, for calls and for watches', async () => {
      const intruder = new KubernetesConfigMapStore(cluster.kubeConfig('stolen'));
      await expect(intruder.get(namespace, 'limits')).rejects.toThrow(UnauthenticatedError);
      const error = await intruder.watch(namespace, () => undefined).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UnauthenticatedError);
      expect((error as Error).message).toBe('Unauthorized');
    });

    it('reports nothing after it is stopped', async () => {
      const seen = recorder();
      const stop = await store.watch(namespace, seen.onEvent);
      const other = recorder();
      const stopOther = await store.watch(namespace, other.onEvent);
      stop();
      await store.create({ namespace, name: 'after', data: {} });
      await other.next(1);
      stopOther();
      expect(seen.events).toEqual([]);
    });
  });
});

// In-process only: a real API server cannot be made to cut its watches or compact its history on demand.
describe('KubernetesConfigMapStore when the in-process API server cuts watches or compacts', () => {
  let server: KubeApiServer;
  let store: KubernetesConfigMapStore;
  beforeEach(async () => {
    server = await startKubeApiServer({ token: 'admin' });
    store = new KubernetesConfigMapStore(kubeConfigFor(server));
  });
  afterEach(() => server.close());

  it('resumes a dropped watch from the last resourceVersion it saw, missing and repeating nothing', async () => {
    const seen = recorder();
    const stop = await store.watch('argo', seen.onEvent);
    await store.create({ namespace: 'argo', name: 'one', data: { n: '1' } });
    await seen.next(1);

    expect(server.dropWatches()).toBe(1);
    // Written while no watch is open: only a resumed watch can report it.
    server.seed('configmaps', { metadata: { namespace: 'argo', name: 'two' }, data: { n: '2' } });
    server.seed('configmaps', { metadata: { namespace: 'argo', name: 'one' }, data: { n: '3' } });
    await seen.next(3);
    await store.delete('argo', 'two');
    await seen.next(4);
    stop();
    expect(seen.summary()).toEqual([
      ['ADDED', 'one', { n: '1' }],
      ['ADDED', 'two', { n: '2' }],
      ['MODIFIED', 'one', { n: '3' }],
      ['DELETED', 'two', { n: '2' }],
    ]);
  });

  it('relists when its resourceVersion has been compacted away, reporting the difference as events', async () => {
    const seen = recorder();
    const stop = await store.watch(undefined, seen.onEvent);
    await store.create({ namespace: 'argo', name: 'kept', data: { n: '1' } });
    await store.create({ namespace: 'team-a', name: 'gone', data: { n: '1' } });
    await store.create({ namespace: 'team-a', name: 'same', data: { n: '1' } });
    await seen.next(3);

    expect(server.dropWatches()).toBe(1);
    server.seed('configmaps', { metadata: { namespace: 'argo', name: 'kept' }, data: { n: '2' } });
    server.remove('configmaps', 'team-a', 'gone');
    server.seed('configmaps', { metadata: { namespace: 'team-b', name: 'new' }, data: { n: '1' } });
    server.compact();
    await seen.next(6);
    // The watch it re-established after the relist carries on.
    await store.create({ namespace: 'team-c', name: 'later', data: {} });
    await seen.next(7);
    stop();
    expect(seen.summary()).toEqual([
      ['ADDED', 'kept', { n: '1' }],
      ['ADDED', 'gone', { n: '1' }],
      ['ADDED', 'same', { n: '1' }],
      ['DELETED', 'gone', { n: '1' }],
      ['MODIFIED', 'kept', { n: '2' }],
      ['ADDED', 'new', { n: '1' }],
      ['ADDED', 'later', {}],
    ]);
  });
});
