import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { request } from 'undici';
import { insecureAgent } from '../support/runtime-api.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime, type RunningRuntime } from '../../runtime/runtime-process.js';
import { registeredRoutes, type RegisteredRoute } from '../support/route-list.js';

/** Per route; with one server for the file this keeps the suite at about 10 s on a loaded machine. */
const RUNS_PER_ROUTE = 30;

/** Names an attacker or a careless user would try: traversal, NUL and control characters, prototype names, SQL, oversize. */
const hostileName = fc.oneof(
  fc.constantFrom('..', '../../victim', '..%2F..', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '\u0001', '\t', ' ', 'A', 'ns/with/slash', '😀', '%00', "'; drop table sync_limit; --", 'x'.repeat(300), ''),
  fc.tuple(fc.constantFrom('team-a', 'gpu', 'wf'), fc.constantFrom('\u0000', '\u0001', '\u007f', '\n', '/', '/../', '.', '%')).map(([name, inserted]) => `${name}${inserted}${name}`),
  fc.string({ unit: fc.integer({ min: 0, max: 0x2ff }).map((code) => String.fromCharCode(code)), maxLength: 80 }),
  fc.stringMatching(/^[a-z0-9][-a-z0-9.]{0,70}$/),
);
const hugeNumber = fc.oneof(fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, -(2 ** 63), 1e308, 1.5, Number.MAX_SAFE_INTEGER), fc.integer(), fc.double({ noNaN: true }));
const hostileValue = fc.oneof(hostileName, hugeNumber, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }), fc.dictionary(hostileName, hostileName, { maxKeys: 3 }));

const VALID_PARAMS: Readonly<Record<string, string>> = { namespace: 'team-a', key: 'gpu', name: 'wf', uid: 'u1', section: 'synchronization' };
const MANIFEST = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'wf' }, spec: { entrypoint: 'main', templates: [{ name: 'main', suspend: {} }] } };

/** A request each route accepts; one part of it is then replaced by something hostile. */
function validRequest(route: RegisteredRoute): { params: string[]; body: Record<string, unknown> | undefined; query: Record<string, string> } {
  const params = [...route.url.matchAll(/:(\w+)/g)].map((match) => VALID_PARAMS[match[1]!] ?? 'x');
  const onSync = route.url.startsWith('/api/v1/sync/');
  const body =
    route.method === 'POST' && onSync ? { type: 1, key: 'gpu-2', limit: 2 }
    : route.method === 'PUT' && onSync ? { type: 1, limit: 2 }
    : route.method === 'POST' && route.url.startsWith('/api/v1/workflows/') ? { workflow: structuredClone(MANIFEST), serverDryRun: true }
    : route.method === 'PUT' && route.url.startsWith('/api/v1/config/') ? {}
    : undefined;
  const query: Record<string, string> = route.url.includes(':key') && route.method !== 'PUT' ? { type: '1' } : route.url === '/api/v1/sync-events' || route.url === '/api/v1/sync-audit' ? { namespace: 'team-a' } : {};
  return { params, body, query };
}

/** Where the hostile value goes: a path parameter, a body field (also a nested manifest field) or a query parameter. */
const mutation = fc.record({
  target: fc.constantFrom('param', 'body', 'query', 'manifest'),
  slot: fc.nat(),
  name: fc.oneof(hostileName, fc.constantFrom('type', 'key', 'cmName', 'limit', 'namespace', '__proto__', 'listOptions.limit', 'listOptions.labelSelector', 'listOptions.continue')),
  value: hostileValue,
});
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(route: RegisteredRoute, change: Mutation): { path: string; body: unknown } {
  const { params, body, query } = validRequest(route);
  const text = typeof change.value === 'string' ? change.value : JSON.stringify(change.value);
  let sent: unknown = body;
  if (change.target === 'param' && params.length > 0) params[change.slot % params.length] = text;
  else if (change.target === 'query') query[Object.keys(query)[change.slot % Math.max(1, Object.keys(query).length)] ?? change.name] = text;
  else if (change.target === 'manifest' && body?.workflow) {
    const metadata = (body.workflow as { metadata: Record<string, unknown> }).metadata;
    metadata[['name', 'generateName', 'namespace', 'labels'][change.slot % 4]!] = change.value;
  } else if (body !== undefined) sent = { ...body, [Object.keys(body)[change.slot % Math.max(1, Object.keys(body).length)] ?? change.name]: change.value };
  else sent = change.value;
  let index = 0;
  const path = route.url.replace(/:\w+/g, () => encodeURIComponent(params[index++] ?? 'x'));
  const search = new URLSearchParams(query).toString();
  return { path: search ? `${path}?${search}` : path, body: sent };
}

describe('every API route under generated hostile input (SPEC §12: only 4xx, never 5xx, no change on rejection)', () => {
  let home: string;
  let runtime: RunningRuntime;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'argosync-properties-'));
    runtime = await startRuntime({ home }, { port: 0, logFormat: 'json', apiRateLimit: '1000000' }, () => undefined);
    // Something to delete or change by mistake.
    for (const limit of [{ cmName: 'limits', key: 'gpu', limit: 2 }, { type: 1, key: 'gpu', limit: 3 }]) await send('POST', '/api/v1/sync/team-a', limit);
  });
  afterAll(async () => {
    await runtime?.stop();
    await rm(home, { recursive: true, force: true });
  });

  async function send(method: string, path: string, payload?: unknown): Promise<{ status: number; text: string; contentType: string }> {
    const response = await request(new URL(path.slice(1), runtime.url), {
      method: method as 'GET',
      dispatcher: insecureAgent,
      headers: { authorization: `Bearer ${runtime.token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    });
    const contentType = String(response.headers['content-type'] ?? '');
    // An event stream that was accepted never ends by itself.
    const text = contentType.startsWith('text/event-stream') ? '' : await response.body.text();
    response.body.destroy();
    return { status: response.statusCode, text, contentType };
  }

  /** The state every route could change: the API's own listing of team-a, and the rows of the state store. */
  async function state(): Promise<string> {
    const db = runtime.context.stateStore.db;
    const tables = await Promise.all([
      sql`select namespace, name, data::text, resource_version from argosync_configmaps order by namespace, name`.execute(db),
      sql`select namespace, name, resource_version from argosync_workflows order by namespace, name`.execute(db),
      sql`select name, sizelimit from sync_limit order by name`.execute(db),
      sql`select count(*) from argosync_audit`.execute(db),
    ]);
    const listings = await Promise.all(['/api/v1/sync/team-a', '/api/v1/workflows/team-a', '/api/v1/config/synchronization'].map((path) => send('GET', path)));
    return JSON.stringify([tables.map((result) => result.rows), listings.map((listing) => listing.text.replace(/"lastHeartbeat":"[^"]*"/g, ''))]);
  }

  it('answers every generated request with a 2xx or a 4xx {code, message}, and a rejection changes nothing', async () => {
    const routes = registeredRoutes(runtime.server.app).filter((route) => route.url.startsWith('/api/v1/'));
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(mutation, async (change) => {
          const before = await state();
          const { path, body } = mutate(route, change);
          const sent = route.method === 'GET' || route.method === 'DELETE' ? undefined : body;
          const { status, text, contentType } = await send(route.method, path, sent);
          const where = `${route.method} ${path} ${JSON.stringify(sent)?.slice(0, 200)} → ${status} ${text.slice(0, 200)}`;
          expect(status, where).toBeLessThan(500);
          if (status < 400) return;
          expect(contentType, where).toMatch(/^application\/json/);
          const error = JSON.parse(text) as Record<string, unknown>;
          expect(Object.keys(error).sort(), where).toEqual(['code', 'message']);
          expect(typeof error.code === 'number' && typeof error.message === 'string' && error.message !== '', where).toBe(true);
          expect(await state(), where).toBe(before);
        }),
        { numRuns: RUNS_PER_ROUTE, seed: Number(process.env.ARGOSYNC_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
      );
    }
  }, 300_000);
});
