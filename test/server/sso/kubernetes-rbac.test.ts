import type { V1SubjectAccessReviewSpec } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../runtime/clock.js';
import { kubernetesSecretResolver } from '../../../runtime/config/kubernetes-secret-resolver.js';
import { KubernetesAuthorizer } from '../../../runtime/server/auth/kubernetes-authorizer.js';
import { CachedServiceAccounts, SERVICE_ACCOUNT_TTL_MS } from '../../../runtime/server/auth/sso/cached-service-accounts.js';
import { KubernetesServiceAccounts, RBAC_PRECEDENCE_ANNOTATION, RBAC_RULE_ANNOTATION } from '../../../runtime/server/auth/sso/kubernetes-service-accounts.js';
import { oauth2DisabledRoutes } from '../../../runtime/server/auth/sso/oauth2-disabled-routes.js';
import { mintSession, sessionContentKey, type SessionClaims } from '../../../runtime/server/auth/sso/session-cookie.js';
import { loadOrCreateSecretKey, SSO_SECRET_KEY } from '../../../runtime/server/auth/sso/sso-key.js';
import { SsoSessions } from '../../../runtime/server/auth/sso/sso-sessions.js';
import { kubeConfigFor, startKubeApiServer, type KubeApiServer } from '../../support/kube-api-server.js';
import { ManualClock } from '../../support/manual-clock.js';
import { startTestServer, type TestServer } from '../server-harness.js';
import { probe } from './probe-route.js';

const serviceAccount = (namespace: string, name: string, rule: string, precedence?: string) => ({
  metadata: { namespace, name, annotations: { [RBAC_RULE_ANNOTATION]: rule, ...(precedence === undefined ? {} : { [RBAC_PRECEDENCE_ANNOTATION]: precedence }) } },
});

// In-process only: these tests see which ServiceAccount each SubjectAccessReview names, which only the in-process
// server shows them; client auth mode (test/server/kubernetes-auth.test.ts) covers real reviews on k3s.
describe('SSO on Kubernetes: the key in Secret sso, ServiceAccount annotations and SubjectAccessReviews', () => {
  let api: KubeApiServer;
  const reviews: V1SubjectAccessReviewSpec[] = [];
  const servers: TestServer[] = [];
  let key: Uint8Array;

  beforeAll(async () => {
    api = await startKubeApiServer();
    api.seed('serviceaccounts', serviceAccount('argo', 'sso-admin', "'admins' in groups", '10'));
    api.seed('serviceaccounts', serviceAccount('argo', 'sso-reader', "email endsWith '@example.com'"));
    api.seed('serviceaccounts', serviceAccount('argo', 'sso-bad-precedence', "email endsWith '@example.com'", 'high'));
    api.seed('serviceaccounts', serviceAccount('argo', 'sso-bad-pattern', "email matches '('", '30'));
    api.seed('serviceaccounts', { metadata: { namespace: 'argo', name: 'no-annotation' } });
    api.seed('serviceaccounts', serviceAccount('team-a', 'team-a-lead', "'leads' in groups", '20'));
    api.setAccessReview((spec) => {
      reviews.push(spec);
      const allowed = spec.user === 'system:serviceaccount:argo:sso-admin' || (spec.user === 'system:serviceaccount:team-a:team-a-lead' && spec.resourceAttributes?.namespace === 'team-a');
      return { allowed };
    });
    key = sessionContentKey(await loadOrCreateSecretKey(kubeConfigFor(api), 'argo'));
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await api?.close();
  });

  const serverFor = async (delegateToNamespace: boolean) => {
    const kubeConfig = kubeConfigFor(api);
    const sessions = new SsoSessions(key, { directory: new KubernetesServiceAccounts(kubeConfig), namespace: 'argo', delegateToNamespace }, systemClock);
    const server = await startTestServer({ authModes: ['sso'] }, { authorizer: new KubernetesAuthorizer(kubeConfig), apiRoutes: [probe], sso: { sessions, routes: oauth2DisabledRoutes } });
    servers.push(server);
    return server;
  };
  const probeAs = async (server: TestServer, claims: Partial<SessionClaims>, namespace: string) => {
    const session = await mintSession(key, { iss: 'argo-server', sub: 'u', exp: Math.floor(Date.now() / 1000) + 600, ...claims });
    return server.fetch(`/api/v1/probe/${namespace}`, { headers: { authorization: session } });
  };

  it('creates Secret sso once (binary PKCS#1 DER) and every replica reads the same key; a foreign Secret is refused', async () => {
    const again = sessionContentKey(await loadOrCreateSecretKey(kubeConfigFor(api), 'argo'));
    expect(Buffer.from(again).equals(Buffer.from(key))).toBe(true);
    const data = api.get('secrets', 'argo', 'sso')?.data as Record<string, string>;
    const der = Buffer.from(data[SSO_SECRET_KEY]!, 'base64');
    expect(der[0]).toBe(0x30);
    api.seed('secrets', { metadata: { namespace: 'other', name: 'sso' }, data: { [SSO_SECRET_KEY]: Buffer.from('not a key').toString('base64') } });
    await expect(loadOrCreateSecretKey(kubeConfigFor(api), 'other')).rejects.toThrow('failed to parse private key in Secret other/sso key cookieEncryptionPrivateKey');
  });

  it('reads clientId and clientSecret from a Secret of the server namespace', async () => {
    api.seed('secrets', { metadata: { namespace: 'argo', name: 'argo-server-sso' }, data: { clientID: Buffer.from('argosync').toString('base64') } });
    const resolve = kubernetesSecretResolver(kubeConfigFor(api), 'argo');
    expect(await resolve({ name: 'argo-server-sso', key: 'clientID' })).toBe('argosync');
    await expect(resolve({ name: 'argo-server-sso', key: 'clientSecret' })).rejects.toThrow('key clientSecret missing in secret argo-server-sso');
    await expect(resolve({ name: 'absent', key: 'x' })).rejects.toThrow('cannot read secret argo/absent: not found');
  });

  it('authorizes as the chosen ServiceAccount with a SubjectAccessReview; higher precedence first; no match is 403 not allowed', async () => {
    const server = await serverFor(false);
    reviews.length = 0;
    const admin = await probeAs(server, { email: 'a@example.com', groups: ['admins'] }, 'team-z');
    expect(admin.json()).toEqual({ subject: 'a@example.com', serviceAccount: 'sso-admin' });
    expect(reviews.at(-1)).toMatchObject({
      user: 'system:serviceaccount:argo:sso-admin',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:argo', 'system:authenticated'],
      resourceAttributes: { verb: 'get', resource: 'workflows', group: 'argoproj.io', namespace: 'team-z' },
    });
    // Two precedence-0 matches (a bad precedence counts as 0): the name that sorts first wins.
    const reader = await probeAs(server, { email: 'r@example.com' }, 'team-z');
    expect(reader.status).toBe(403);
    expect(reviews.at(-1)?.user).toBe('system:serviceaccount:argo:sso-bad-precedence');
    const stranger = await probeAs(server, { email: 's@elsewhere.org', groups: ['leads'] }, 'team-a');
    expect(stranger.status).toBe(403);
    expect(stranger.json()).toEqual({ code: 7, message: 'not allowed' });
    // The annotation's pattern was compiled when the list was read: refused there, skipped by every request.
    expect(server.logs.some((line) => line.includes('argo/sso-bad-pattern: matches at 6: Invalid regular expression'))).toBe(true);
  });

  it('with SSO_DELEGATE_RBAC_TO_NAMESPACE, a ServiceAccount of the request namespace with higher precedence is used', async () => {
    const server = await serverFor(true);
    const lead = await probeAs(server, { email: 'l@example.com', groups: ['leads'] }, 'team-a');
    expect(lead.json()).toEqual({ subject: 'l@example.com', serviceAccount: 'team-a-lead' });
    const outsider = await probeAs(server, { email: 'o@elsewhere.org', groups: ['leads'] }, 'team-a');
    expect(outsider.json()).toEqual({ subject: 'o@elsewhere.org', serviceAccount: 'team-a-lead' });
    const elsewhere = await probeAs(server, { email: 'l@example.com', groups: ['leads'] }, 'team-b');
    expect(elsewhere.status).toBe(403);
  });

  describe('ServiceAccounts are listed once per namespace and period, not on every request', () => {
    const quiet = { info: () => undefined, warn: () => undefined };
    /** The cluster's directory, counting the lists it sends to the API server. */
    const countingDirectory = () => {
      const real = new KubernetesServiceAccounts(kubeConfigFor(api));
      const lists: string[] = [];
      return { lists, directory: { candidates: (namespace: string) => (lists.push(namespace), real.candidates(namespace)) } };
    };

    it('lists once for many requests, concurrent ones included, and sees a changed rbac-rule annotation within the TTL', async () => {
      const clock = new ManualClock();
      const { lists, directory } = countingDirectory();
      const sessions = new SsoSessions(key, { directory: new CachedServiceAccounts(directory, clock), namespace: 'argo', delegateToNamespace: false }, clock);
      const admin = await mintSession(key, { iss: 'argo-server', sub: 'a', email: 'a@example.com', groups: ['admins'], exp: Math.floor(clock.now() / 1000) + 3600 });
      const accountOf = async () => (await sessions.identify(admin, 'team-z', quiet)).serviceAccount?.name;
      for (let i = 0; i < 20; i += 1) expect(await accountOf()).toBe('sso-admin');
      expect(await Promise.all(Array.from({ length: 10 }, accountOf))).toEqual(Array(10).fill('sso-admin'));
      expect(lists).toEqual(['argo']);

      api.seed('serviceaccounts', serviceAccount('argo', 'sso-admin', "'root' in groups", '10'));
      try {
        clock.advance(SERVICE_ACCOUNT_TTL_MS - 1);
        expect(await accountOf()).toBe('sso-admin');
        clock.advance(1);
        expect(await accountOf()).toBe('sso-bad-precedence');
        expect(lists).toEqual(['argo', 'argo']);
      } finally {
        api.seed('serviceaccounts', serviceAccount('argo', 'sso-admin', "'admins' in groups", '10'));
      }
    });

    it('remembers a bounded number of namespaces (request namespaces are chosen by callers), forgetting the least recently used', async () => {
      const clock = new ManualClock();
      const { lists, directory } = countingDirectory();
      const cache = new CachedServiceAccounts(directory, clock, SERVICE_ACCOUNT_TTL_MS, 3);
      for (const namespace of ['n1', 'n2', 'n3', 'n1', 'n4', 'n1', 'n3', 'n2']) await cache.candidates(namespace);
      // n2 was the least recently used when n4 came, so only it was listed again.
      expect(lists).toEqual(['n1', 'n2', 'n3', 'n4', 'n2']);
    });

    it('does not remember a failed list: the next request tries again', async () => {
      const clock = new ManualClock();
      let failures = 1;
      const { lists, directory } = countingDirectory();
      const flaky = { candidates: (namespace: string) => (failures-- > 0 ? Promise.reject(new Error('connection refused')) : directory.candidates(namespace)) };
      const cache = new CachedServiceAccounts(flaky, clock);
      await expect(cache.candidates('argo')).rejects.toThrow('connection refused');
      expect((await cache.candidates('argo')).map((candidate) => candidate.name)).toContain('sso-admin');
      expect(lists).toEqual(['argo']);
    });
  });
});
