import {
  ApiException,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type V1Pod,
  type V1SubjectAccessReviewSpec,
} from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kubeConfigFor, startKubeApiServer, type KubeApiServer, type KubeObject } from '../support/kube-api-server.js';

interface WatchLine {
  type: string;
  object: KubeObject & { code?: number; reason?: string; message?: string };
}

/** A watch read with plain fetch; `take(n)` resolves with the next `n` events. */
async function openWatch(url: string, init: RequestInit = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { ...init, signal: controller.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    response,
    async take(count: number): Promise<WatchLine[]> {
      const lines: WatchLine[] = [];
      while (lines.length < count) {
        const newline = buffer.indexOf('\n');
        if (newline >= 0) {
          lines.push(JSON.parse(buffer.slice(0, newline)) as WatchLine);
          buffer = buffer.slice(newline + 1);
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`the watch ended after ${lines.length} of ${count} events`);
        buffer += value;
      }
      return lines;
    },
    /** Resolves when the server ends the stream, with what was left unread. */
    async rest(): Promise<string> {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return buffer;
        buffer += value;
      }
    },
    close: () => controller.abort(),
  };
}

/** Collects client-node watch events; `next(n)` resolves once `n` have arrived. */
function collector() {
  const events: { type: string; object: KubeObject }[] = [];
  let waiting: { count: number; resolve: () => void } | undefined;
  return {
    events,
    onEvent(type: string, object: KubeObject) {
      events.push({ type, object });
      if (waiting && events.length >= waiting.count) waiting.resolve();
    },
    next(count: number) {
      return new Promise<void>((resolve) => {
        waiting = { count, resolve };
        if (events.length >= count) resolve();
      });
    },
  };
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

async function failureOf(promise: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ApiException)) throw new Error(`expected an ApiException, got ${String(error)}`);
  return { code: error.code, body: JSON.parse(String(error.body)) as Record<string, unknown> };
}

const CONFLICT_TEXT = 'the object has been modified; please apply your changes to the latest version and try again';

describe('in-process Kubernetes API server', () => {
  let server: KubeApiServer;
  let base: string;
  const send = (method: string, path: string, body?: unknown, contentType = 'application/json') =>
    fetch(`${base}${path}`, { method, headers: { 'Content-Type': contentType }, ...(body !== undefined && { body: JSON.stringify(body) }) });

  beforeEach(async () => {
    server = await startKubeApiServer();
    base = server.url;
  });
  afterEach(() => server.close());

  describe('REST semantics over plain HTTP', () => {
    it('answers a missing object with a NotFound Status', async () => {
      const response = await send('GET', '/api/v1/namespaces/team-a/configmaps/absent');
      expect(response.status).toBe(404);
      expect(await json(response)).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'configmaps "absent" not found',
        reason: 'NotFound',
        details: { name: 'absent', kind: 'configmaps' },
        code: 404,
      });
      const unknown = await send('GET', '/api/v1/namespaces/team-a/persistentvolumeclaims');
      expect(unknown.status).toBe(404);
      expect(await json(unknown)).toMatchObject({ reason: 'NotFound', message: 'the server could not find the requested resource' });
    });

    it('creates with uid, creationTimestamp and a resourceVersion, and refuses a taken name with 409 AlreadyExists', async () => {
      const response = await send('POST', '/api/v1/namespaces/team-a/configmaps', { metadata: { name: 'limits' }, data: { gpu: '2' } });
      expect(response.status).toBe(201);
      const created = await json(response);
      expect(created).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'limits', namespace: 'team-a' }, data: { gpu: '2' } });
      const metadata = created.metadata as Record<string, string>;
      expect(metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Number(metadata.resourceVersion)).toBeGreaterThan(0);

      const again = await send('POST', '/api/v1/namespaces/team-a/configmaps', { metadata: { name: 'limits' }, data: {} });
      expect(again.status).toBe(409);
      expect(await json(again)).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'configmaps "limits" already exists',
        reason: 'AlreadyExists',
        details: { name: 'limits', kind: 'configmaps' },
        code: 409,
      });
      expect(server.get('configmaps', 'team-a', 'limits')?.data).toEqual({ gpu: '2' });
    });

    it('generates names from generateName', async () => {
      const created = await json(await send('POST', '/api/v1/namespaces/team-a/configmaps', { metadata: { generateName: 'limits-' } }));
      expect((created.metadata as { name: string }).name).toMatch(/^limits-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      const missing = await send('POST', '/api/v1/namespaces/team-a/configmaps', { metadata: {} });
      expect(missing.status).toBe(422);
      expect(await json(missing)).toMatchObject({ message: 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required' });
    });

    it('refuses names that are not DNS-1123 subdomains with 422 Invalid, for every resource', async () => {
      const response = await send('POST', '/api/v1/namespaces/team-a/configmaps', { metadata: { name: 'Bad_Name' } });
      expect(response.status).toBe(422);
      const detail =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
      expect(await json(response)).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${detail}`,
        reason: 'Invalid',
        details: { name: 'Bad_Name', kind: 'ConfigMap', causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: "Bad_Name": ${detail}`, field: 'metadata.name' }] },
        code: 422,
      });
      const twice = await json(await send('POST', '/api/v1/namespaces/team-a/configmaps', { metadata: { name: 'A' }, data: { 'a/b': '1' } }));
      expect(twice.message).toMatch(/^ConfigMap "A" is invalid: \[metadata\.name: Invalid value: "A": .*, data\[a\/b\]: Invalid value: "a\/b": a valid config key/);
      const lease = await send('POST', '/apis/coordination.k8s.io/v1/namespaces/team-a/leases', { metadata: { name: 'x_y' } });
      expect(lease.status).toBe(422);
      expect(await json(lease)).toMatchObject({ message: expect.stringMatching(/^Lease\.coordination\.k8s\.io "x_y" is invalid: metadata\.name/), details: { group: 'coordination.k8s.io', kind: 'Lease' } });
      expect((await send('POST', '/api/v1/namespaces/team-a/pods', { metadata: { name: '-pod' } })).status).toBe(422);
      expect(server.list('configmaps')).toEqual([]);
    });

    it('replaces with the current resourceVersion, refuses a stale one with 409 Conflict, and 404s an absent one', async () => {
      const created = await json(await send('POST', '/api/v1/namespaces/team-a/configmaps', { metadata: { name: 'limits' }, data: { gpu: '1' } }));
      const replaced = await send('PUT', '/api/v1/namespaces/team-a/configmaps/limits', { ...created, data: { gpu: '2' } });
      expect(replaced.status).toBe(200);
      const current = await json(replaced);
      const createdMeta = created.metadata as Record<string, string>;
      const currentMeta = current.metadata as Record<string, string>;
      expect(Number(currentMeta.resourceVersion)).toBeGreaterThan(Number(createdMeta.resourceVersion));
      expect(currentMeta.uid).toBe(createdMeta.uid);
      expect(currentMeta.creationTimestamp).toBe(createdMeta.creationTimestamp);

      const stale = await send('PUT', '/api/v1/namespaces/team-a/configmaps/limits', { ...created, data: { gpu: '9' } });
      expect(stale.status).toBe(409);
      expect(await json(stale)).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `Operation cannot be fulfilled on configmaps "limits": ${CONFLICT_TEXT}`,
        reason: 'Conflict',
        details: { name: 'limits', kind: 'configmaps' },
        code: 409,
      });
      expect(server.get('configmaps', 'team-a', 'limits')?.data).toEqual({ gpu: '2' });

      const absent = await send('PUT', '/api/v1/namespaces/team-a/configmaps/absent', { metadata: { name: 'absent', resourceVersion: '1' } });
      expect(absent.status).toBe(404);
      const renamed = await send('PUT', '/api/v1/namespaces/team-a/configmaps/limits', { metadata: { name: 'other' } });
      expect(renamed.status).toBe(400);

      // Without a resourceVersion the update is unconditional; an identical one writes nothing.
      const unconditional = await json(await send('PUT', '/api/v1/namespaces/team-a/configmaps/limits', { metadata: { name: 'limits' }, data: { gpu: '3' } }));
      const same = await json(await send('PUT', '/api/v1/namespaces/team-a/configmaps/limits', { metadata: { name: 'limits' }, data: { gpu: '3' } }));
      expect(same.metadata).toEqual(unconditional.metadata);
    });

    it('patches with merge patches (strategic ones too) and JSON patches, honouring a resourceVersion in the patch', async () => {
      await send('POST', '/api/v1/namespaces/team-a/configmaps', { metadata: { name: 'limits', labels: { app: 'a' } }, data: { gpu: '1', cpu: '2' } });
      const path = '/api/v1/namespaces/team-a/configmaps/limits';
      const merged = await json(await send('PATCH', path, { data: { gpu: '5', cpu: null } }, 'application/merge-patch+json'));
      expect(merged.data).toEqual({ gpu: '5' });
      const strategic = await json(await send('PATCH', path, { metadata: { labels: { tier: 'x' } } }, 'application/strategic-merge-patch+json'));
      expect((strategic.metadata as { labels: unknown }).labels).toEqual({ app: 'a', tier: 'x' });
      const patched = await json(
        await send(
          'PATCH',
          path,
          [
            { op: 'test', path: '/data/gpu', value: '5' },
            { op: 'add', path: '/data/mem', value: '8' },
            { op: 'remove', path: '/metadata/labels/app' },
          ],
          'application/json-patch+json',
        ),
      );
      expect(patched.data).toEqual({ gpu: '5', mem: '8' });
      expect((patched.metadata as { labels: unknown }).labels).toEqual({ tier: 'x' });

      const failedTest = await send('PATCH', path, [{ op: 'test', path: '/data/gpu', value: '1' }], 'application/json-patch+json');
      expect(failedTest.status).toBe(422);
      const stale = await send('PATCH', path, { metadata: { resourceVersion: '1' }, data: { gpu: '0' } }, 'application/merge-patch+json');
      expect(stale.status).toBe(409);
      expect(await json(stale)).toMatchObject({ reason: 'Conflict' });
      expect((await send('PATCH', path, { data: {} }, 'application/apply-patch+yaml')).status).toBe(415);
      expect((await send('PATCH', '/api/v1/namespaces/team-a/configmaps/absent', {}, 'application/merge-patch+json')).status).toBe(404);
      expect(server.get('configmaps', 'team-a', 'limits')?.data).toEqual({ gpu: '5', mem: '8' });

      server.seed('pods', { metadata: { name: 'step' }, spec: { containers: [{ name: 'a' }, { name: 'c' }] } });
      const pod = await json(
        await send(
          'PATCH',
          '/api/v1/namespaces/default/pods/step',
          [
            { op: 'add', path: '/spec/containers/1', value: { name: 'b' } },
            { op: 'copy', from: '/spec/containers/0', path: '/spec/containers/-' },
            { op: 'move', from: '/spec/containers/3/name', path: '/spec/hostname' },
            { op: 'replace', path: '/spec/containers/3', value: { name: 'd' } },
          ],
          'application/json-patch+json',
        ),
      );
      expect(pod.spec).toEqual({ containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }], hostname: 'a' });
      const outOfBounds = await send('PATCH', '/api/v1/namespaces/default/pods/step', [{ op: 'remove', path: '/spec/containers/4' }], 'application/json-patch+json');
      expect(outOfBounds.status).toBe(422);
    });

    it('deletes with a Success Status and 404s what is not there', async () => {
      const created = await json(await send('POST', '/api/v1/namespaces/team-a/configmaps', { metadata: { name: 'limits' } }));
      const deleted = await send('DELETE', '/api/v1/namespaces/team-a/configmaps/limits');
      expect(deleted.status).toBe(200);
      expect(await json(deleted)).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name: 'limits', kind: 'configmaps', uid: (created.metadata as { uid: string }).uid },
      });
      expect(server.get('configmaps', 'team-a', 'limits')).toBeUndefined();
      const again = await send('DELETE', '/api/v1/namespaces/team-a/configmaps/limits');
      expect(again.status).toBe(404);
      expect(await json(again)).toMatchObject({ reason: 'NotFound', message: 'configmaps "limits" not found' });
    });

    it('lists a namespace and all namespaces, with label and field selectors and the current resourceVersion', async () => {
      server.seed('configmaps', { metadata: { namespace: 'team-b', name: 'one', labels: { app: 'argosync' } } });
      server.seed('configmaps', { metadata: { namespace: 'team-a', name: 'two', labels: { app: 'other' } } });
      server.seed('configmaps', { metadata: { namespace: 'team-a', name: 'one' } });
      const lease = server.seed('leases', { metadata: { namespace: 'team-a', name: 'leader' } });
      const names = (list: Record<string, unknown>) => (list.items as KubeObject[]).map((item) => `${item.metadata?.namespace}/${item.metadata?.name}`);

      const all = await json(await send('GET', '/api/v1/configmaps'));
      expect(all.kind).toBe('ConfigMapList');
      expect(names(all)).toEqual(['team-a/one', 'team-a/two', 'team-b/one']);
      expect(all.metadata).toEqual({ resourceVersion: lease.metadata.resourceVersion });
      expect(names(await json(await send('GET', '/api/v1/namespaces/team-a/configmaps')))).toEqual(['team-a/one', 'team-a/two']);
      expect(names(await json(await send('GET', '/api/v1/configmaps?labelSelector=app%3Dargosync')))).toEqual(['team-b/one']);
      expect(names(await json(await send('GET', '/api/v1/configmaps?labelSelector=app!%3Dargosync')))).toEqual(['team-a/one', 'team-a/two']);
      expect(names(await json(await send('GET', '/api/v1/configmaps?labelSelector=app,app!%3Dother')))).toEqual(['team-b/one']);
      expect(names(await json(await send('GET', '/api/v1/configmaps?fieldSelector=metadata.name%3D%3Done')))).toEqual(['team-a/one', 'team-b/one']);
      expect((await send('GET', '/api/v1/configmaps?fieldSelector=spec.x%3D1')).status).toBe(400);
      expect((await send('POST', '/api/v1/configmaps', { metadata: { name: 'x' } })).status).toBe(405);
    });

    it('counts one resourceVersion across all resources, like etcd', async () => {
      const versions = [
        server.seed('configmaps', { metadata: { name: 'a' } }),
        server.seed('leases', { metadata: { name: 'b' } }),
        server.seed('pods', { metadata: { name: 'c' } }),
        server.seed('configmaps', { metadata: { name: 'a' }, data: { x: '1' } }),
      ].map((object) => Number(object.metadata.resourceVersion));
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(4);
    });
  });

  describe('watch', () => {
    it('streams ADDED, MODIFIED and DELETED in order from a resourceVersion, as newline-delimited JSON', async () => {
      server.seed('configmaps', { metadata: { namespace: 'team-a', name: 'before' } });
      const list = await json(await send('GET', '/api/v1/namespaces/team-a/configmaps'));
      const version = (list.metadata as { resourceVersion: string }).resourceVersion;
      const watch = await openWatch(`${base}/api/v1/namespaces/team-a/configmaps?watch=true&resourceVersion=${version}`);
      expect(watch.response.status).toBe(200);
      expect(watch.response.headers.get('transfer-encoding')).toBe('chunked');

      const created = await json(await send('POST', '/api/v1/namespaces/team-a/configmaps', { metadata: { name: 'limits' }, data: { n: '0' } }));
      await send('POST', '/api/v1/namespaces/team-b/configmaps', { metadata: { name: 'elsewhere' } });
      let current = created;
      for (let n = 1; n <= 20; n++) current = await json(await send('PUT', '/api/v1/namespaces/team-a/configmaps/limits', { ...current, data: { n: String(n) } }));
      await send('DELETE', '/api/v1/namespaces/team-a/configmaps/limits');

      const events = await watch.take(22);
      watch.close();
      expect(events.map((event) => event.type)).toEqual(['ADDED', ...Array<string>(20).fill('MODIFIED'), 'DELETED']);
      expect(events.map((event) => (event.object.data as { n: string }).n)).toEqual([...Array(21).keys(), 20].map(String));
      const versions = events.map((event) => Number(event.object.metadata?.resourceVersion));
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(events[0]?.object).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'limits', namespace: 'team-a' } });
    });

    it('replays what happened after the resourceVersion it resumes from, and starts with the current state without one', async () => {
      const first = server.seed('configmaps', { metadata: { namespace: 'team-a', name: 'one' } });
      server.seed('configmaps', { metadata: { namespace: 'team-a', name: 'two' } });
      server.remove('configmaps', 'team-a', 'one');

      const resumed = await openWatch(`${base}/api/v1/configmaps?watch=1&resourceVersion=${first.metadata.resourceVersion}`);
      expect((await resumed.take(2)).map((event) => [event.type, event.object.metadata?.name])).toEqual([
        ['ADDED', 'two'],
        ['DELETED', 'one'],
      ]);
      resumed.close();

      const fresh = await openWatch(`${base}/api/v1/configmaps?watch=true`);
      server.seed('configmaps', { metadata: { namespace: 'team-a', name: 'three' } });
      expect((await fresh.take(2)).map((event) => [event.type, event.object.metadata?.name])).toEqual([
        ['ADDED', 'two'],
        ['ADDED', 'three'],
      ]);
      fresh.close();
    });

    it('reports objects entering and leaving a label selector as ADDED and DELETED', async () => {
      const watch = await openWatch(`${base}/api/v1/namespaces/default/configmaps?watch=true&labelSelector=role%3Dlimits`);
      server.seed('configmaps', { metadata: { name: 'a' } });
      server.seed('configmaps', { metadata: { name: 'a', labels: { role: 'limits' } } });
      server.seed('configmaps', { metadata: { name: 'a', labels: { role: 'limits' } }, data: { x: '1' } });
      server.seed('configmaps', { metadata: { name: 'a', labels: { role: 'other' } } });
      expect((await watch.take(3)).map((event) => event.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
      watch.close();
    });

    it('answers a compacted resourceVersion with a 410 Expired ERROR event and ends the stream', async () => {
      const old = server.seed('configmaps', { metadata: { name: 'a' } });
      server.seed('configmaps', { metadata: { name: 'a' }, data: { x: '1' } });
      server.compact();
      const watch = await openWatch(`${base}/api/v1/configmaps?watch=true&resourceVersion=${old.metadata.resourceVersion}`);
      const [event] = await watch.take(1);
      expect(event).toMatchObject({ type: 'ERROR', object: { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 } });
      expect(event?.object.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
      expect(await watch.rest()).toBe('');
    });

    it('serves client-node Watch, and dropWatches cuts its connection', async () => {
      const seen = collector();
      let ended!: (error: unknown) => void;
      const end = new Promise<unknown>((resolve) => (ended = resolve));
      await new Watch(kubeConfigFor(server)).watch('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases', {}, seen.onEvent, ended);
      const leases = kubeConfigFor(server).makeApiClient(CoordinationV1Api);
      await leases.createNamespacedLease({ namespace: 'kube-system', body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'a' } } });
      await seen.next(1);
      expect(seen.events[0]).toMatchObject({ type: 'ADDED', object: { kind: 'Lease', spec: { holderIdentity: 'a' } } });
      expect(server.dropWatches()).toBe(1);
      await end;
      expect(server.dropWatches()).toBe(0);
    });
  });

  describe('with client-node', () => {
    it('surfaces Status failures as ApiExceptions with the code and body', async () => {
      const core = kubeConfigFor(server).makeApiClient(CoreV1Api);
      const missing = await failureOf(core.readNamespacedConfigMap({ namespace: 'default', name: 'absent' }));
      expect(missing).toMatchObject({ code: 404, body: { reason: 'NotFound', message: 'configmaps "absent" not found' } });
      const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'limits' }, data: { gpu: '1' } } });
      expect((await failureOf(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'limits' } } }))).body.reason).toBe('AlreadyExists');
      await core.replaceNamespacedConfigMap({ namespace: 'default', name: 'limits', body: { ...created, data: { gpu: '2' } } });
      const stale = await failureOf(core.replaceNamespacedConfigMap({ namespace: 'default', name: 'limits', body: { ...created, data: { gpu: '3' } } }));
      expect(stale).toMatchObject({ code: 409, body: { reason: 'Conflict', message: `Operation cannot be fulfilled on configmaps "limits": ${CONFLICT_TEXT}` } });
      expect((await failureOf(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'Nope' } } }))).code).toBe(422);
      const list = await core.listConfigMapForAllNamespaces();
      expect(list.items.map((item) => item.data)).toEqual([{ gpu: '2' }]);
      expect(list.metadata?.resourceVersion).toBe(server.get('configmaps', 'default', 'limits')?.metadata.resourceVersion);
      // client-node's default patch type is a JSON patch.
      const patched = await core.patchNamespacedConfigMap({ namespace: 'default', name: 'limits', body: [{ op: 'replace', path: '/data/gpu', value: '4' }] });
      expect(patched.data).toEqual({ gpu: '4' });
      await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'limits' });
      expect((await failureOf(core.deleteNamespacedConfigMap({ namespace: 'default', name: 'limits' }))).code).toBe(404);
    });

    it('keeps leases with optimistic concurrency, named with their group', async () => {
      const leases = kubeConfigFor(server).makeApiClient(CoordinationV1Api);
      const created = await leases.createNamespacedLease({ namespace: 'argo', body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } } });
      expect(created.kind).toBe('Lease');
      const renewed = await leases.replaceNamespacedLease({ namespace: 'argo', name: 'leader', body: { ...created, spec: { ...created.spec, holderIdentity: 'b' } } });
      expect(renewed.spec?.holderIdentity).toBe('b');
      const stolen = await failureOf(leases.replaceNamespacedLease({ namespace: 'argo', name: 'leader', body: { ...created, spec: { holderIdentity: 'c' } } }));
      expect(stolen).toMatchObject({
        code: 409,
        body: { reason: 'Conflict', message: `Operation cannot be fulfilled on leases.coordination.k8s.io "leader": ${CONFLICT_TEXT}`, details: { group: 'coordination.k8s.io', kind: 'leases' } },
      });
      expect((await leases.readNamespacedLease({ namespace: 'argo', name: 'leader' })).spec?.holderIdentity).toBe('b');
    });

    it('keeps pod status apart: creation makes it Pending, the object endpoint keeps it, the status subresource changes only it', async () => {
      const core = kubeConfigFor(server).makeApiClient(CoreV1Api);
      const spec = { containers: [{ name: 'main', image: 'busybox' }] };
      const created = await core.createNamespacedPod({ namespace: 'argo', body: { metadata: { name: 'step' }, spec, status: { phase: 'Succeeded' } } });
      expect(created.status).toEqual({ phase: 'Pending' });

      const relabelled = await core.replaceNamespacedPod({ namespace: 'argo', name: 'step', body: { ...created, metadata: { ...created.metadata, labels: { a: 'b' } }, status: { phase: 'Failed' } } });
      expect(relabelled.metadata?.labels).toEqual({ a: 'b' });
      expect(relabelled.status).toEqual({ phase: 'Pending' });

      const running: V1Pod = { ...relabelled, metadata: { ...relabelled.metadata, labels: {} }, spec: { containers: [] }, status: { phase: 'Running' } };
      const statusWritten = await core.replaceNamespacedPodStatus({ namespace: 'argo', name: 'step', body: running });
      expect(statusWritten.status).toEqual({ phase: 'Running' });
      expect(statusWritten.metadata?.labels).toEqual({ a: 'b' });
      expect(statusWritten.spec?.containers.map((container) => container.name)).toEqual(['main']);
      const stale = await failureOf(core.replaceNamespacedPodStatus({ namespace: 'argo', name: 'step', body: running }));
      expect(stale.code).toBe(409);

      const patched = await core.patchNamespacedPodStatus(
        { namespace: 'argo', name: 'step', body: { status: { phase: 'Succeeded' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      expect(patched.status).toEqual({ phase: 'Succeeded' });
      expect(server.get('pods', 'argo', 'step')?.status).toEqual({ phase: 'Succeeded' });
      const statusPath = await send('GET', '/api/v1/namespaces/argo/pods/step/status');
      expect(((await json(statusPath)).status as { phase: string }).phase).toBe('Succeeded');
      expect((await send('GET', '/api/v1/namespaces/argo/configmaps/step/status')).status).toBe(404);
    });
  });

  describe('authentication and authorization hooks', () => {
    it('answers TokenReviews through the hook', async () => {
      server.setTokenReview((token) => (token === 'good' ? { username: 'alice', groups: ['team-a', 'system:authenticated'] } : undefined));
      const authentication = kubeConfigFor(server).makeApiClient(AuthenticationV1Api);
      const accepted = await authentication.createTokenReview({ body: { spec: { token: 'good' } } });
      expect(accepted.kind).toBe('TokenReview');
      expect(accepted.status).toEqual({ authenticated: true, user: { username: 'alice', groups: ['team-a', 'system:authenticated'] } });
      const refused = await authentication.createTokenReview({ body: { spec: { token: 'bad' } } });
      expect(refused.status?.authenticated).toBeFalsy();
      expect(refused.status?.user?.username).toBeUndefined();
    });

    it('answers SubjectAccessReviews and SelfSubjectAccessReviews through the hook, denying by default', async () => {
      const authorization = kubeConfigFor(server, 'alice-token').makeApiClient(AuthorizationV1Api);
      const resourceAttributes = { namespace: 'team-a', verb: 'create', resource: 'configmaps' };
      const denied = await authorization.createSubjectAccessReview({ body: { spec: { user: 'alice', resourceAttributes } } });
      expect(denied.status?.allowed).toBe(false);

      const asked: V1SubjectAccessReviewSpec[] = [];
      server.setAccessReview((spec) => {
        asked.push(spec);
        return spec.user === 'alice' && spec.resourceAttributes?.namespace === 'team-a' ? { allowed: true } : { allowed: false, reason: 'no RBAC rule' };
      });
      const allowed = await authorization.createSubjectAccessReview({ body: { spec: { user: 'alice', groups: ['team-a'], resourceAttributes } } });
      expect(allowed).toMatchObject({ kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', status: { allowed: true } });
      const elsewhere = await authorization.createSubjectAccessReview({ body: { spec: { user: 'alice', resourceAttributes: { ...resourceAttributes, namespace: 'team-b' } } } });
      expect(elsewhere.status).toEqual({ allowed: false, reason: 'no RBAC rule' });

      const anonymous = await authorization.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes } } });
      expect(anonymous.status?.allowed).toBe(false);
      expect(asked.at(-1)).toMatchObject({ user: 'system:anonymous', groups: ['system:unauthenticated'] });
      server.setTokenReview((token) => (token === 'alice-token' ? { username: 'alice', groups: ['team-a'] } : undefined));
      const self = await authorization.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes } } });
      expect(self).toMatchObject({ kind: 'SelfSubjectAccessReview', status: { allowed: true } });
      expect(asked.at(-1)).toMatchObject({ user: 'alice', groups: ['team-a'], resourceAttributes });
    });
  });
});

describe('in-process Kubernetes API server with a token', () => {
  let server: KubeApiServer;
  beforeEach(async () => {
    server = await startKubeApiServer({ token: 'secret-token' });
  });
  afterEach(() => server.close());

  it('refuses requests without the bearer token with a 401 Status', async () => {
    const anonymous = await fetch(`${server.url}/api/v1/namespaces/default/configmaps`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    const wrong = await fetch(`${server.url}/api/v1/configmaps?watch=true`, { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const refused = await kubeConfigFor(server, 'nope')
      .makeApiClient(CoreV1Api)
      .listNamespacedConfigMap({ namespace: 'default' })
      .catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(ApiException);
    expect((refused as ApiException<unknown>).code).toBe(401);
  });

  it('serves requests that carry it; kubeConfigFor uses it by default', async () => {
    const authorized = await fetch(`${server.url}/api/v1/namespaces/default/configmaps`, { headers: { Authorization: 'Bearer secret-token' } });
    expect(authorized.status).toBe(200);
    const core = kubeConfigFor(server).makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'limits' } } });
    expect((await core.listNamespacedConfigMap({ namespace: 'default' })).items).toHaveLength(1);
  });
});
