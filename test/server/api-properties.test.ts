import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { request } from 'undici';
import { stringify } from 'yaml';
import { insecureAgent } from '../support/runtime-api.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime, type RunningRuntime } from '../../runtime/runtime-process.js';
import { mintSession, sessionContentKey } from '../../runtime/server/auth/sso/session-cookie.js';
import { sealSignIn, SIGN_IN_COOKIE } from '../../runtime/server/auth/sso/sign-in-state.js';
import { loadOrCreateFileKey } from '../../runtime/server/auth/sso/sso-key.js';
import { startOpenIdProvider, type TestOpenIdProvider } from '../support/openid-provider.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';
import { registeredRoutes, type RegisteredRoute } from '../support/route-list.js';

/** Per route; with one server for the file this keeps the suite at about 10 s on a loaded machine. */
const RUNS_PER_ROUTE = 30;
const HEADER_RUNS_PER_ROUTE = 25;

/** Names an attacker or a careless user would try: traversal, NUL and control characters, prototype names, SQL, oversize. */
const hostileName = fc.oneof(
  fc.constantFrom('..', '../../victim', '..%2F..', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '\u0001', '\t', ' ', 'A', 'ns/with/slash', '😀', '%00', "'; drop table sync_limit; --", 'x'.repeat(300), ''),
  fc.tuple(fc.constantFrom('team-a', 'gpu', 'wf'), fc.constantFrom('\u0000', '\u0001', '\u007f', '\n', '/', '/../', '.', '%')).map(([name, inserted]) => `${name}${inserted}${name}`),
  fc.string({ unit: fc.integer({ min: 0, max: 0x2ff }).map((code) => String.fromCharCode(code)), maxLength: 80 }),
  fc.stringMatching(/^[a-z0-9][-a-z0-9.]{0,70}$/),
);
const hugeNumber = fc.oneof(fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, -(2 ** 63), 1e308, 1.5, Number.MAX_SAFE_INTEGER), fc.integer(), fc.double({ noNaN: true }));
const hostileValue = fc.oneof(hostileName, hugeNumber, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }), fc.dictionary(hostileName, hostileName, { maxKeys: 3 }));

const VALID_PARAMS: Readonly<Record<string, string>> = { namespace: 'team-a', key: 'gpu', name: 'wf', uid: 'u1', section: 'synchronization', asset: 'app.js' };
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

/** The names the header runtimes below answer as their own (besides loopback's). */
const OWN_NAME = 'argosync.example.com';
/** Every hostile value carries this mark, so a reflection of it is easy to spot. */
const MARK = 'evil';
/** Values a DNS-rebinding page, a misconfigured proxy or a hand-written request may put in a naming header. */
const hostileHeaderValue = fc.oneof(
  fc.constantFrom(
    'evil.example', `${OWN_NAME}:443@evil.example`, 'localhost:443@evil.example', `${OWN_NAME}/evil`, `${OWN_NAME}\\evil`, `${OWN_NAME}:99999#evil`,
    '[::1]:70000#evil', '[::ffff:7f00:1]#evil', '[evil::1]', '[::1#evil', `${OWN_NAME}\r\nx-evil: 1`, `${OWN_NAME}\r\n\r\nGET /evil HTTP/1.1`,
    `${OWN_NAME}\u0000evil`, `${OWN_NAME}\nevil`, `${OWN_NAME}\revil`, 'évil.example', 'ｅｖｉｌ.example', '😈evil', `evil.example, ${OWN_NAME}`,
    `${OWN_NAME}, evil.example`, 'https://evil.example', 'null#evil', 'javascript:evil()', '"><script>evil()</script>', `evil${'x'.repeat(20_000)}`,
    `evil${'.a'.repeat(2_000)}`, 'for=evil;proto=https;host=evil.example', 'for="[::1]:80";host=evil, for=evil', 'https, evil', 'evil, https', '1.2.3.4, evil, 127.0.0.1',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }).map((text) => `${MARK}${text}`),
  // This server's own names on ports no URL can hold: nothing to reflect, but nothing to build a URL on either.
  fc.tuple(fc.constantFrom(OWN_NAME, 'localhost', '127.0.0.1', '[::1]', 'LOCALHOST'), fc.constantFrom(':0', ':65536', ':99999', ':', ':00443')).map(([name, port]) => `${name}${port}`),
  fc.tuple(fc.constantFrom(OWN_NAME, 'localhost', '127.0.0.1', '[::1]'), fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code)), maxLength: 12 })).map(([name, tail]) => `${name}${tail}#${MARK}`),
);
const NAMING_HEADERS = ['host', 'origin', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'Host', 'X-Forwarded-Host', 'X-FORWARDED-PROTO'] as const;
/** A request's naming headers: none to several, a name possibly repeated, and sometimes a `Host` of this server's own first. */
const hostileHeaders = fc.record({
  ownHost: fc.constantFrom('none', 'first', 'last'),
  headers: fc.array(fc.tuple(fc.constantFrom(...NAMING_HEADERS), hostileHeaderValue), { minLength: 1, maxLength: 5 }),
  credential: fc.constantFrom('none', 'token', 'session cookie', 'session header', 'sign-in'),
});
type HostileHeaders = typeof hostileHeaders extends fc.Arbitrary<infer T> ? T : never;

/** The statuses SPEC §7 gives these routes (501: `/oauth2/*` without SSO, as Argo; 431: oversize headers). */
const DOCUMENTED_STATUSES = new Set([200, 302, 400, 401, 403, 404, 409, 429, 431, 501]);
const GRPC_CODES: Readonly<Record<number, number>> = { 400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 429: 8, 431: 3 };
/** What `writeClientError` answers for a request Node's HTTP parser could not read, before any hook. */
const PARSER_REFUSALS = new Set(['{"code":3,"message":"malformed HTTP request"}', '{"code":3,"message":"the request line or headers are larger than the server accepts"}']);
const STACK_TRACE = /node:internal|\.[cm]?[jt]s:\d+:\d+/;

/** A runtime with the state it needs to build requests that get past authentication. */
interface HeaderTarget {
  readonly runtime: RunningRuntime;
  readonly port: number;
  /** `Bearer v2:…` of a signed-in person, when SSO is on. */
  readonly session: string | undefined;
  /** A sealed sign-in (state `STATE`) for `/oauth2/callback`, when SSO is on. */
  readonly signIn: string | undefined;
  /** Hosts a `Location` may name: this server's and the identity provider's. */
  readonly hostnames: ReadonlySet<string>;
}
const STATE = 'state-of-the-property-test';

function headersFor(target: HeaderTarget, route: RegisteredRoute, generated: HostileHeaders, hasBody: boolean): [string, string][] {
  const headers: [string, string][] = generated.headers.map(([name, value]) => [name, value]);
  const own: [string, string] = ['host', `localhost:${target.port}`];
  if (generated.ownHost === 'first') headers.unshift(own);
  if (generated.ownHost === 'last') headers.push(own);
  if (hasBody) headers.push(['content-type', 'application/json']);
  const bearer = generated.credential === 'token' ? `Bearer ${target.runtime.token}` : generated.credential === 'session header' ? target.session : undefined;
  if (bearer !== undefined) headers.push(['authorization', bearer]);
  if (generated.credential === 'session cookie') headers.push(['cookie', `authorization="${target.session ?? 'Bearer v2:forged'}"`]);
  if (generated.credential === 'sign-in' || route.url === '/oauth2/callback') headers.push(['cookie', `${SIGN_IN_COOKIE}=${target.signIn ?? 'forged'}`]);
  return headers;
}

/** What a hostile naming header must never do to a response: a 5xx, a stack, an undocumented status, its value in a `Location` or a page. */
function checkAnswer(target: HeaderTarget, route: RegisteredRoute, response: RawResponse | undefined, where: string): void {
  expect(response, where).toBeDefined();
  const { status, headers, body } = response!;
  expect(DOCUMENTED_STATUSES.has(status), where).toBe(true);
  expect(body, where).not.toMatch(STACK_TRACE);
  // SPEC §7.1: every response carries the rate-limit headers, but for what Node's parser refused before any route.
  if (!PARSER_REFUSALS.has(body)) expect(headers.get('x-ratelimit-limit'), where).toBeDefined();
  const contentType = headers.get('content-type')?.[0] ?? '';
  if (contentType.startsWith('text/html')) expect(body.toLowerCase(), where).not.toContain(MARK);
  for (const location of headers.get('location') ?? []) {
    expect(location.toLowerCase(), where).not.toContain(MARK);
    const url = new URL(location, 'https://relative.invalid');
    const redirectUri = url.searchParams.get('redirect_uri');
    for (const named of redirectUri === null ? [url.href] : [url.href, redirectUri]) {
      expect(URL.canParse(named), where).toBe(true);
      const { hostname } = new URL(named);
      if (hostname !== 'relative.invalid') expect(target.hostnames.has(hostname), where).toBe(true);
    }
  }
  const sso = route.url.startsWith('/oauth2/');
  if (status < 400 || (sso && (status === 501 || contentType.startsWith('text/html')))) return;
  expect(contentType, where).toMatch(/^application\/json/);
  const error = JSON.parse(body) as Record<string, unknown>;
  expect(Object.keys(error).sort(), where).toEqual(['code', 'message']);
  expect(error.code, where).toBe(GRPC_CODES[status]);
}

describe('every route under generated hostile Host, Origin and forwarding headers, SSO off and on (SPEC §7.6, §7.7)', () => {
  const homes: string[] = [];
  const targets: Record<'loopback, client auth' | 'all interfaces behind a trusted proxy, sso and client auth', HeaderTarget> = {} as never;
  let provider: TestOpenIdProvider;
  beforeAll(async () => {
    provider = await startOpenIdProvider([{ sub: 'alice' }], [{ clientId: 'argosync', clientSecret: 'secret', redirectUris: [`https://${OWN_NAME}/oauth2/callback`] }]);
    const start = async (server: Parameters<typeof startRuntime>[1], sso: boolean): Promise<HeaderTarget> => {
      const home = await mkdtemp(join(tmpdir(), 'argosync-header-properties-'));
      homes.push(home);
      const config = join(home, 'argosync.yaml');
      await writeFile(config, stringify(sso ? { sso: { issuer: provider.issuer, clientIdValue: 'argosync', clientSecretValue: 'secret', rootCA: provider.certificate } } : {}));
      const runtime = await startRuntime({ home, config }, { port: 0, logFormat: 'json', logLevel: 'error', apiRateLimit: '1000000', allowedHosts: [OWN_NAME], ...server }, () => undefined);
      const key = sso ? sessionContentKey(await loadOrCreateFileKey(home)) : undefined;
      const now = Date.now();
      return {
        runtime,
        port: Number(new URL(runtime.url).port),
        session: key && (await mintSession(key, { iss: 'argo-server', sub: 'alice', exp: Math.floor(now / 1000) + 3600 })),
        signIn: key && (await sealSignIn(key, { state: STATE, nonce: 'nonce', codeVerifier: 'verifier'.repeat(6), destination: '/' }, now)),
        hostnames: new Set(['localhost', '127.0.0.1', '[::1]', OWN_NAME]),
      };
    };
    targets['loopback, client auth'] = await start({}, false);
    targets['all interfaces behind a trusted proxy, sso and client auth'] = await start({ address: '0.0.0.0', authModes: ['sso', 'client'], trustedProxies: ['127.0.0.1'] }, true);
  });
  afterAll(async () => {
    await Promise.all(Object.values(targets).map((target) => target.runtime.stop()));
    await provider?.close();
    await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
  });

  it.each(['loopback, client auth', 'all interfaces behind a trusted proxy, sso and client auth'] as const)('%s: a documented status, a {code, message} error, and no hostile value in a Location or a page', async (name) => {
    const target = targets[name];
    const routes = registeredRoutes(target.runtime.server.app);
    expect(routes.map((route) => route.url)).toContain('/oauth2/callback');
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(hostileHeaders, async (generated) => {
          const { params, body, query } = validRequest(route);
          if (route.url === '/oauth2/callback') Object.assign(query, { state: STATE, code: 'code' });
          let index = 0;
          const search = new URLSearchParams(query).toString();
          const path = route.url.replace(/:\w+/g, () => encodeURIComponent(params[index++] ?? 'x')) + (search ? `?${search}` : '');
          const sent = route.method === 'GET' || route.method === 'DELETE' ? undefined : JSON.stringify(body ?? {});
          const headers = headersFor(target, route, generated, sent !== undefined);
          const response = await rawRequest(target.runtime.url, { method: route.method, path, headers, ...(sent === undefined ? {} : { body: sent }) });
          const where = `${route.method} ${path} ${JSON.stringify(headers).slice(0, 400)} → ${response?.status} ${JSON.stringify([...(response?.headers ?? [])])} ${response?.body.slice(0, 300)}`;
          checkAnswer(target, route, response, where);
        }),
        { numRuns: HEADER_RUNS_PER_ROUTE, seed: Number(process.env.ARGOSYNC_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
      );
    }
  }, 300_000);
});
