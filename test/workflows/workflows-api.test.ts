import fc from 'fast-check';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { hashToken } from '../../runtime/server/auth/policy-file-authorizer.js';
import { createTestDatabase, describeOn, type TestDatabase } from '../support/databases.js';
import { embeddedRuntime, mysqlPersistence } from '../support/embedded-runtime.js';
import { runtimeApi } from '../support/runtime-api.js';

const READER = 'workflow-reader-token';
const OUTSIDER = 'workflow-outsider-token';
const TOKEN_NOT_VALID = /^token not valid/;
const denied = (verb: string, namespace: string) => ({ code: 7, message: `Permission denied, you are not allowed to ${verb} workflows in namespace "${namespace}".` });

const echo = (name: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name, labels: { team: 'a' } },
  spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox', command: ['echo', name] } }], ...extra },
});

describeOn('mysql')('workflows and archive API (SPEC 7.3): status codes, texts, auth and bad input', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('mysql');
  });
  afterAll(() => database?.drop());
  const runtime = embeddedRuntime(() => ({
    config: { persistence: mysqlPersistence(database, { archive: true }) },
    policy: {
      tokens: [
        { subject: 'reader', sha256: hashToken(READER), rules: [{ verbs: ['get', 'list'], resources: ['workflows'], namespaces: ['team-a'] }] },
        { subject: 'outsider', sha256: hashToken(OUTSIDER), rules: [{ verbs: ['*'], resources: ['workflows'], namespaces: ['team-x'] }] },
      ],
    },
  }));
  const api = runtimeApi(runtime);

  const finished = (name: string) =>
    vi.waitFor(
      async () => {
        const response = await api('GET', `/workflows/team-a/${name}`);
        expect(response.json).toMatchObject({ status: { phase: 'Succeeded' } });
        return response.json as { metadata: { uid: string } };
      },
      { timeout: 15_000, interval: 50 },
    );

  it('creates, lists with a label selector and paging, gets, and deletes with Kubernetes texts', async () => {
    const created = await api('POST', '/workflows/team-a', { workflow: echo('first') });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ metadata: { name: 'first', namespace: 'team-a', uid: expect.any(String), resourceVersion: expect.any(String) } });
    expect(await api('POST', '/workflows/team-a', { workflow: echo('first') })).toEqual({ status: 409, json: { code: 6, message: 'workflows.argoproj.io "first" already exists' } });
    const generated = await api('POST', '/workflows/team-a', { workflow: { ...echo(''), metadata: { generateName: 'gen-' } } });
    expect(generated.json).toMatchObject({ metadata: { name: expect.stringMatching(/^gen-[a-z0-9]{5}$/) } });
    const dryRun = await api('POST', '/workflows/team-a', { workflow: echo('dry'), serverDryRun: true });
    expect(dryRun.status).toBe(200);
    expect((await api('GET', '/workflows/team-a/dry')).status).toBe(404);

    await finished('first');
    const page = await api('GET', '/workflows/team-a?listOptions.limit=1');
    expect(page.json.items).toHaveLength(1);
    const next = await api('GET', `/workflows/team-a?listOptions.limit=1&listOptions.continue=${encodeURIComponent((page.json.metadata as { continue: string }).continue)}`);
    expect(next.json.items).toHaveLength(1);
    const labelled = await api('GET', '/workflows/team-a?listOptions.labelSelector=team%3Da,workflows.argoproj.io/completed%3Dtrue');
    expect((labelled.json.items as { metadata: { name: string } }[]).map((item) => item.metadata.name)).toContain('first');
    expect(await api('GET', '/workflows/team-a/nope')).toEqual({ status: 404, json: { code: 5, message: 'workflows.argoproj.io "nope" not found' } });
    expect(await api('DELETE', '/workflows/team-a/nope')).toEqual({ status: 404, json: { code: 5, message: 'workflows.argoproj.io "nope" not found' } });
    expect(await api('PUT', '/workflows/team-a/first/terminate')).toEqual({ status: 400, json: { code: 3, message: 'cannot shutdown a completed workflow: workflow: first, namespace: team-a' } });
    expect(await api('DELETE', '/workflows/team-a/first')).toEqual({ status: 200, json: {} });
    expect((await api('GET', '/workflows/team-a/first')).status).toBe(404);
  });

  it('archives a finished workflow; the archive lists, gets and deletes it by uid', async () => {
    expect((await api('POST', '/workflows/team-a', { workflow: echo('kept') })).status).toBe(200);
    const { metadata } = await finished('kept');
    await vi.waitFor(async () => expect((await api('GET', `/archived-workflows/${metadata.uid}`)).status).toBe(200), { timeout: 10_000, interval: 50 });
    const list = await api('GET', '/archived-workflows?namespace=team-a&listOptions.labelSelector=team%3Da');
    expect((list.json.items as { metadata: { uid: string } }[]).map((item) => item.metadata.uid)).toContain(metadata.uid);
    expect(await api('DELETE', `/archived-workflows/${metadata.uid}`)).toEqual({ status: 200, json: {} });
    expect(await api('GET', `/archived-workflows/${metadata.uid}`)).toEqual({ status: 404, json: { code: 5, message: 'not found' } });
  });

  it('rejects invalid manifests with every problem named, and unsupported fields by path', async () => {
    const problems = async (workflow: unknown) => {
      const response = await api('POST', '/workflows/team-a', { workflow });
      expect(response.status).toBe(400);
      return response.json.message as string;
    };
    expect(await problems(echo('bad', { entrypoint: 'missing' }))).toBe('invalid workflow: spec.entrypoint: template "missing" not found');
    expect(await problems(echo('bad', { volumes: [] }))).toBe('invalid workflow: unsupported field spec.volumes: argosync does not implement it');
    expect(await problems({ ...echo('bad'), metadata: { name: 'Bad_Name' } })).toMatch(/^invalid workflow: metadata.name "Bad_Name" must consist of lower case alphanumeric characters/);
    expect(await problems({ ...echo('bad'), metadata: { name: 'x', namespace: 'team-b' } })).toBe('invalid workflow: metadata.namespace "team-b" does not match the namespace "team-a" of the request');
    const dag = {
      metadata: { name: 'cycle' },
      spec: {
        entrypoint: 'main',
        templates: [
          { name: 'main', dag: { tasks: [{ name: 'a', template: 'leaf', dependencies: ['b'] }, { name: 'b', template: 'leaf', dependencies: ['a'] }] } },
          { name: 'leaf', container: { image: 'busybox' } },
          { name: 'leaf', script: { image: 'busybox', source: 'true' } },
        ],
      },
    };
    const message = await problems(dag);
    expect(message).toContain('spec.templates[2]: duplicate template name "leaf"');
    expect(message).toMatch(/dependency cycle a -> b -> a|dependency cycle b -> a -> b/);
  });

  it('needs a token on every route (401) and the verb on workflows in the namespace (403)', async () => {
    const routes: [method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, verb: string, body?: unknown][] = [
      ['POST', '/workflows/team-a', 'create', { workflow: echo('auth') }],
      ['GET', '/workflows/team-a', 'list'],
      ['GET', '/workflows/team-a/auth', 'get'],
      ['DELETE', '/workflows/team-a/auth', 'delete'],
      ['PUT', '/workflows/team-a/auth/terminate', 'update'],
      ['GET', '/archived-workflows?namespace=team-a', 'list'],
    ];
    for (const [method, path, verb, body] of routes) {
      const anonymous = await api(method, path, body, 'not-a-token');
      expect(anonymous.status, `${method} ${path}`).toBe(401);
      expect(anonymous.json.message).toMatch(TOKEN_NOT_VALID);
      expect(await api(method, path, body, OUTSIDER), `${method} ${path}`).toEqual({ status: 403, json: denied(verb, 'team-a') });
    }
    expect((await api('GET', '/workflows/team-a', undefined, READER)).status).toBe(200);
    expect(await api('POST', '/workflows/team-a', { workflow: echo('auth') }, READER)).toEqual({ status: 403, json: denied('create', 'team-a') });
    // Listing the whole archive needs list in every namespace.
    expect(await api('GET', '/archived-workflows', undefined, READER)).toEqual({ status: 403, json: denied('list', '*') });

    expect((await api('POST', '/workflows/team-a', { workflow: echo('archived-auth') })).status).toBe(200);
    const { metadata } = await finished('archived-auth');
    await vi.waitFor(async () => expect((await api('GET', `/archived-workflows/${metadata.uid}`)).status).toBe(200), { timeout: 10_000, interval: 50 });
    expect((await api('GET', `/archived-workflows/${metadata.uid}`, undefined, 'not-a-token')).status).toBe(401);
    expect((await api('DELETE', `/archived-workflows/${metadata.uid}`, undefined, 'not-a-token')).status).toBe(401);
    expect(await api('GET', `/archived-workflows/${metadata.uid}`, undefined, OUTSIDER)).toEqual({ status: 403, json: denied('get', 'team-a') });
    expect((await api('GET', `/archived-workflows/${metadata.uid}`, undefined, READER)).status).toBe(200);
    expect(await api('DELETE', `/archived-workflows/${metadata.uid}`, undefined, READER)).toEqual({ status: 403, json: denied('delete', 'team-a') });
  });

  it('answers any submitted body or list query with a 2xx or a 4xx and a message, never a 5xx, and stores nothing on a 4xx', async () => {
    const scalar = fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null));
    const template = fc.record(
      { name: fc.constantFrom('main', 'x', ''), container: fc.oneof(scalar, fc.record({ image: scalar, command: fc.array(scalar, { maxLength: 2 }) })), steps: fc.oneof(scalar, fc.constant([[{ name: 'a', template: 'main' }]])) },
      { requiredKeys: [] },
    );
    const workflow = fc.oneof(
      scalar,
      fc.record(
        {
          metadata: fc.oneof(scalar, fc.record({ name: fc.constantFrom('fuzz', 'Fuzz', '', 'a'.repeat(300)), labels: fc.oneof(scalar, fc.dictionary(fc.string({ maxLength: 4 }), scalar, { maxKeys: 2 })) }, { requiredKeys: [] })),
          spec: fc.oneof(scalar, fc.record({ entrypoint: scalar, priority: scalar, activeDeadlineSeconds: scalar, templates: fc.oneof(scalar, fc.array(template, { maxLength: 2 })), synchronization: fc.oneof(scalar, fc.record({ mutexes: fc.array(fc.record({ name: scalar }), { maxLength: 1 }) })) }, { requiredKeys: [] })),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(workflow.map((w) => ({ workflow: w })), scalar), async (body) => {
        const response = await api('POST', '/workflows/fuzz', body);
        expect(response.status, JSON.stringify(response.json)).toBeLessThan(500);
        if (response.status !== 200) {
          expect(response.json).toEqual({ code: expect.any(Number), message: expect.any(String) });
          expect(response.json.message).not.toMatch(/\n\s+at /);
        } else {
          expect((await api('DELETE', `/workflows/fuzz/${(response.json.metadata as { name: string }).name}`)).status).toBe(200);
        }
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('listOptions.limit', 'listOptions.labelSelector', 'listOptions.continue'), fc.string({ maxLength: 12 }), async (key, value) => {
        const response = await api('GET', `/workflows/fuzz?${key}=${encodeURIComponent(value)}`);
        expect([200, 400]).toContain(response.status);
        const archive = await api('GET', `/archived-workflows?${key}=${encodeURIComponent(value)}`);
        expect([200, 400]).toContain(archive.status);
      }),
      { numRuns: 100 },
    );
    expect((await api('GET', '/workflows/fuzz')).json.items).toEqual([]);
  });
});
