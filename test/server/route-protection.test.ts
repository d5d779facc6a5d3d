import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { insecureAgent } from '../support/runtime-api.js';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime, type RunningRuntime } from '../../runtime/runtime-process.js';
import { hashToken, policyFilePath } from '../../runtime/server/auth/policy-file-authorizer.js';
import { mintSession, sessionContentKey } from '../../runtime/server/auth/sso/session-cookie.js';
import { loadOrCreateFileKey } from '../../runtime/server/auth/sso/sso-key.js';
import { startOpenIdProvider, type TestOpenIdProvider } from '../support/openid-provider.js';
import { registeredRoutes, type RegisteredRoute } from '../support/route-list.js';

/** May do everything, but only in team-a; every request below targets team-b or the runtime's namespace. */
const TEAM_A_TOKEN = 'team-a-only-token';

/** With SSO on, a signed-in person whose groups map to a ServiceAccount of the same reach as TEAM_A_TOKEN. */
const TEAM_A_ACCOUNT = { name: 'team-a-people', rbacRule: "'team-a' in groups", precedence: 1, rules: [{ verbs: ['*'], resources: ['*'], namespaces: ['team-a'] }] };
/**
 * Forwarding headers that would make a request look local, or sent for another host, if anything believed them
 * from an untrusted peer: they must change no answer.
 */
const LOOKS_LOCAL = { 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '::1', 'x-forwarded-host': 'localhost', 'x-forwarded-proto': 'https', forwarded: 'for=127.0.0.1;host=localhost;proto=https' };

/**
 * Open on purpose: probes, metrics, the UI's assets (the UI itself calls the API with a token) and the SSO
 * sign-in flow, which is how a person without a token gets one (501 where SSO is off, as Argo).
 */
const PUBLIC_ROUTES = new Set(['GET /', 'GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /ui/:asset', 'GET /oauth2/redirect', 'GET /oauth2/callback', 'GET /oauth2/logout']);
/** Authenticated but not namespaced: any valid token may read the version and who it is, as Argo's info service. */
const AUTHENTICATED_ONLY = new Set(['GET /api/v1/version', 'GET /api/v1/userinfo']);
/**
 * The archived workflow's namespace is known only once it is found, so an unknown uid (or, as here, a runtime
 * without an archive) is refused before any permission check, as Argo does; never with a 2xx.
 */
const REFUSED_BEFORE_AUTHORIZATION = new Set(['GET /api/v1/archived-workflows/:uid', 'DELETE /api/v1/archived-workflows/:uid']);

const PARAMS: Readonly<Record<string, string>> = { namespace: 'team-b', key: 'gpu', name: 'wf', uid: 'no-such-uid', section: 'synchronization', asset: 'app.js' };
const QUERIES: Readonly<Record<string, string>> = {
  '/api/v1/sync/:namespace/:key': '?type=1',
  '/api/v1/sync/:namespace/:key/status': '?type=1', '/api/v1/sync-events': '?namespace=team-b', '/api/v1/sync-audit': '?namespace=team-b', '/api/v1/archived-workflows': '?namespace=team-b' };

/** A body that passes each route's schema, so that the permission check is what answers. */
function bodyFor(route: RegisteredRoute): unknown {
  if (route.method === 'POST' && route.url.startsWith('/api/v1/sync/')) return { type: 1, key: 'gpu', limit: 1 };
  if (route.method === 'PUT' && route.url.startsWith('/api/v1/sync/')) return { type: 1, limit: 1 };
  if (route.method === 'POST' && route.url.startsWith('/api/v1/workflows/')) {
    return { workflow: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { name: 'wf' }, spec: { entrypoint: 'main', templates: [{ name: 'main', suspend: {} }] } } };
  }
  if (route.method === 'PUT' && route.url.startsWith('/api/v1/config/')) return {};
  return undefined;
}

describe.each([
  { name: 'SSO off', sso: false },
  { name: 'SSO on (sso and client auth, rbac)', sso: true },
])('every registered route is protected, $name (SPEC §10: a new route cannot ship unprotected)', ({ sso }) => {
  let home: string;
  let runtime: RunningRuntime;
  let provider: TestOpenIdProvider | undefined;
  /** How a caller of team-a only proves who it is: its token, and with SSO on its session too. */
  const teamA: string[] = [TEAM_A_TOKEN];
  /** Credentials that must be refused with 401, never taken for another mode. */
  const refused: (string | undefined)[] = [undefined, 'Bearer v2:forged'];
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'argosync-routes-'));
    await writeFile(policyFilePath(home), stringify({ tokens: [{ subject: 'team-a', sha256: hashToken(TEAM_A_TOKEN), rules: [{ verbs: ['*'], resources: ['*'], namespaces: ['team-a'] }] }], serviceAccounts: [TEAM_A_ACCOUNT] }));
    const config = join(home, 'argosync.yaml');
    if (sso) {
      provider = await startOpenIdProvider([], [{ clientId: 'argosync', clientSecret: 'secret', redirectUris: ['https://localhost/oauth2/callback'] }]);
      await writeFile(config, stringify({ sso: { issuer: provider.issuer, clientIdValue: 'argosync', clientSecretValue: 'secret', rootCA: provider.certificate, rbac: { enabled: true } } }));
    } else await writeFile(config, '{}');
    runtime = await startRuntime({ home, config }, { port: 0, logFormat: 'json', logLevel: 'error', apiRateLimit: '1000000', authModes: sso ? ['sso', 'client'] : ['client'] }, () => undefined);
    if (sso) {
      const key = sessionContentKey(await loadOrCreateFileKey(home));
      const session = (claims: { groups: string[]; exp: number }) => mintSession(key, { iss: 'argo-server', sub: 'alice', ...claims });
      const hour = Math.floor(Date.now() / 1000) + 3600;
      teamA.push(await session({ groups: ['team-a'], exp: hour }));
      refused.push(await session({ groups: ['team-a'], exp: hour - 7200 }));
    }
  });
  afterAll(async () => {
    await runtime?.stop();
    await provider?.close();
    await rm(home, { recursive: true, force: true });
  });

  /** `credential` as the Authorization header; with `headers`, more headers besides. */
  const call = async (route: RegisteredRoute, credential: string | undefined, headers: Record<string, string> = {}) => {
    const path = route.url.replace(/:(\w+)/g, (_match, name: string) => PARAMS[name] ?? 'x') + (QUERIES[route.url] ?? '');
    const body = bodyFor(route);
    const authorization = credential === undefined ? {} : { authorization: credential.startsWith('Bearer ') ? credential : `Bearer ${credential}` };
    const response = await request(new URL(path.slice(1), runtime.url), {
      method: route.method as 'GET',
      dispatcher: insecureAgent,
      headers: { ...headers, ...authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = response.headers['content-type']?.toString().startsWith('text/event-stream') ? '' : await response.body.text();
    response.body.destroy();
    return { status: response.statusCode, text };
  };

  it('finds the routes of every API in Fastify itself', () => {
    const urls = new Set(registeredRoutes(runtime.server.app).map((route) => route.url));
    for (const url of ['/api/v1/sync/:namespace/:key', '/api/v1/workflows/:namespace/:name/terminate', '/api/v1/config/:section', '/api/v1/archived-workflows/:uid', '/healthz']) {
      expect(urls, url).toContain(url);
    }
  });

  it('answers 401 without a valid credential on every route that is not public on purpose, whatever the forwarding headers say', async () => {
    const unprotected: string[] = [];
    for (const route of registeredRoutes(runtime.server.app)) {
      const id = `${route.method} ${route.url}`;
      if (PUBLIC_ROUTES.has(id)) continue;
      for (const credential of refused) {
        for (const headers of [{}, LOOKS_LOCAL]) {
          const { status, text } = await call(route, credential, headers);
          if (status !== 401 || JSON.parse(text).code !== 16) unprotected.push(`${id} ${credential?.slice(0, 20)} ${Object.keys(headers).length} → ${status}`);
        }
      }
    }
    expect(unprotected).toEqual([]);
  });

  it('answers 403 to a caller of another namespace on every namespaced route, whatever the forwarding headers say', async () => {
    const open: string[] = [];
    for (const route of registeredRoutes(runtime.server.app)) {
      const id = `${route.method} ${route.url}`;
      if (PUBLIC_ROUTES.has(id) || AUTHENTICATED_ONLY.has(id)) continue;
      for (const credential of teamA) {
        for (const headers of [{}, LOOKS_LOCAL]) {
          const { status, text } = await call(route, credential, headers);
          const denied = REFUSED_BEFORE_AUTHORIZATION.has(id) ? status >= 400 && status < 500 : status === 403 && JSON.parse(text).code === 7;
          if (!denied) open.push(`${id} ${credential.slice(0, 12)} ${Object.keys(headers).length} → ${status} ${text.slice(0, 120)}`);
        }
      }
    }
    expect(open).toEqual([]);
  });

  it('keeps the lists of exceptions honest: each names a registered route', () => {
    const ids = new Set(registeredRoutes(runtime.server.app).map((route) => `${route.method} ${route.url}`));
    for (const id of [...PUBLIC_ROUTES, ...AUTHENTICATED_ONLY, ...REFUSED_BEFORE_AUTHORIZATION]) expect(ids, id).toContain(id);
  });
});
