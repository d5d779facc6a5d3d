import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlreadyExistsError, ConflictError, InvalidArgumentError, NotFoundError } from '../../runtime/errors.js';
import type { ConfigMap, ConfigMapEvent, ConfigMapStore } from '../../runtime/store/configmap-store.js';

export interface ConfigMapStoreFixture {
  readonly store: ConfigMapStore;
  /** A namespace for the test, starting with `prefix`: unique and created where the store shares a real cluster. */
  namespace(prefix: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Whether the suite wrote this ConfigMap: a real cluster puts `kube-root-ca.crt` into every namespace (its
 * controllers own the `kube-` prefix), and the suite ignores what it did not create.
 */
export const createdByTest = (configMap: Pick<ConfigMap, 'name'>): boolean => !configMap.name.startsWith('kube-');

/** Collects the watch events on ConfigMaps `accept` lets through (default: those the test created); `next(n)` resolves once `n` have arrived. */
export function recorder(accept: (configMap: ConfigMap) => boolean = createdByTest) {
  const events: ConfigMapEvent[] = [];
  let waiting: { count: number; resolve: () => void } | undefined;
  return {
    events,
    onEvent(event: ConfigMapEvent) {
      if (!accept(event.configMap)) return;
      events.push(event);
      if (waiting && events.length >= waiting.count) waiting.resolve();
    },
    next(count: number) {
      return new Promise<void>((resolve) => {
        waiting = { count, resolve };
        if (events.length >= count) resolve();
      });
    },
    summary: () => events.map((event) => [event.type, event.configMap.name, event.configMap.data]),
  };
}

/** The one suite every ConfigMapStore passes (SPEC §4): Kubernetes semantics, whatever the backing. */
export function describeConfigMapStore(title: string, open: () => Promise<ConfigMapStoreFixture>): void {
  describe(`ConfigMapStore: ${title}`, () => {
    let fixture: ConfigMapStoreFixture;
    let store: ConfigMapStore;
    let [a, b, c] = ['', '', ''];
    beforeEach(async () => {
      fixture = await open();
      store = fixture.store;
      a = await fixture.namespace('team-a');
      b = await fixture.namespace('team-b');
      c = await fixture.namespace('team-c');
    });
    const ours = (configMaps: ConfigMap[]) => configMaps.filter(createdByTest);
    afterEach(() => fixture.close());

    it('creates, reads and lists ConfigMaps by namespace', async () => {
      const created = await store.create({ namespace: a, name: 'limits', data: { gpu: '2' }, labels: { app: 'argosync' } });
      expect(created.resourceVersion).not.toBe('');
      await store.create({ namespace: b, name: 'limits', data: { cpu: '4' } });
      expect(await store.get(a, 'limits')).toEqual({ namespace: a, name: 'limits', data: { gpu: '2' }, labels: { app: 'argosync' }, resourceVersion: created.resourceVersion });
      expect(await store.get(a, 'absent')).toBeUndefined();
      expect(ours(await store.list(b)).map((configMap) => configMap.data)).toEqual([{ cpu: '4' }]);
      expect((await store.list()).map((configMap) => `${configMap.namespace}/${configMap.name}`)).toEqual(expect.arrayContaining([`${a}/limits`, `${b}/limits`]));
    });

    it('refuses a second ConfigMap of the same name', async () => {
      await store.create({ namespace: a, name: 'limits', data: {} });
      const error = await store.create({ namespace: a, name: 'limits', data: { x: '1' } }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AlreadyExistsError);
      expect((error as Error).message).toBe('configmaps "limits" already exists');
      expect((await store.get(a, 'limits'))?.data).toEqual({});
    });

    it('refuses names and keys Kubernetes would refuse, storing nothing', async () => {
      const error = await store.create({ namespace: a, name: 'Bad_Name', data: {} }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(/^ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
      await expect(store.create({ namespace: a, name: 'ok', data: { 'a/b': '1' } })).rejects.toThrow(/data\[a\/b\]: Invalid value/);
      expect(ours(await store.list(a))).toEqual([]);
    });

    it('updates with the version it read and refuses a stale one', async () => {
      const created = await store.create({ namespace: a, name: 'limits', data: { gpu: '2' } });
      const updated = await store.update({ ...created, data: { gpu: '3' } });
      expect(updated.resourceVersion).not.toBe(created.resourceVersion);
      const stale = await store.update({ ...created, data: { gpu: '9' } }).catch((caught: unknown) => caught);
      expect(stale).toBeInstanceOf(ConflictError);
      expect((stale as Error).message).toBe(
        'Operation cannot be fulfilled on configmaps "limits": the object has been modified; please apply your changes to the latest version and try again',
      );
      expect((await store.get(a, 'limits'))?.data).toEqual({ gpu: '3' });
      await expect(store.update({ ...created, name: 'absent' })).rejects.toThrow(NotFoundError);
    });

    it('lets exactly one of two concurrent writers with the same version win', async () => {
      const created = await store.create({ namespace: a, name: 'limits', data: { gpu: '1' } });
      const results = await Promise.allSettled([store.update({ ...created, data: { gpu: '2' } }), store.update({ ...created, data: { gpu: '3' } })]);
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((result) => result.status === 'rejected');
      expect(rejected?.reason).toBeInstanceOf(ConflictError);
    });

    it('deletes, and says so when there is nothing to delete', async () => {
      await store.create({ namespace: a, name: 'limits', data: {} });
      await store.delete(a, 'limits');
      expect(await store.get(a, 'limits')).toBeUndefined();
      const error = await store.delete(a, 'limits').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as Error).message).toBe('configmaps "limits" not found');
    });

    it('watches one namespace: added, modified and deleted, in order, until stopped', async () => {
      const seen = recorder();
      const stop = await store.watch(a, seen.onEvent);
      const created = await store.create({ namespace: a, name: 'limits', data: { gpu: '1' } });
      await store.create({ namespace: b, name: 'elsewhere', data: {} });
      await store.update({ ...created, data: { gpu: '2' } });
      await store.delete(a, 'limits');
      await seen.next(3);
      expect(seen.events.map((event) => [event.type, event.configMap.name, event.configMap.data])).toEqual([
        ['ADDED', 'limits', { gpu: '1' }],
        ['MODIFIED', 'limits', { gpu: '2' }],
        ['DELETED', 'limits', { gpu: '2' }],
      ]);
      stop();
      // Other suites may write elsewhere on a shared cluster meanwhile.
      const all = recorder((configMap) => configMap.namespace === c && createdByTest(configMap));
      const stopAll = await store.watch(undefined, all.onEvent);
      await store.create({ namespace: c, name: 'later', data: {} });
      await all.next(1);
      stopAll();
      expect(seen.events).toHaveLength(3);
    });
  });
}
