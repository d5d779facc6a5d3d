import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../../runtime/client/api-client.js';
import { systemClock } from '../../../runtime/clock.js';
import { selectAuthMode, type AuthMode } from '../../../runtime/server/auth/auth-mode.js';
import { hashToken, PolicyFileAuthorizer, policyFilePath } from '../../../runtime/server/auth/policy-file-authorizer.js';
import { oauth2DisabledRoutes } from '../../../runtime/server/auth/sso/oauth2-disabled-routes.js';
import { mintSession, sessionContentKey, type SessionClaims } from '../../../runtime/server/auth/sso/session-cookie.js';
import { SsoSessions } from '../../../runtime/server/auth/sso/sso-sessions.js';
import { startTestServer, temporaryHome, type TestServer } from '../server-harness.js';
import { probe } from './probe-route.js';

const key = sessionContentKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'der' }));
const hour = () => Math.floor(Date.now() / 1000) + 3600;
const session = (claims: Partial<SessionClaims> = {}) => mintSession(key, { iss: 'argo-server', sub: 'alice', exp: hour(), email: 'alice@example.com', ...claims });
const CLIENT_TOKEN = 'client-token-of-bob';

const POLICY = {
  tokens: [{ subject: 'bob', sha256: hashToken(CLIENT_TOKEN), rules: [{ verbs: ['get'], resources: ['workflows'], namespaces: ['team-b'] }] }],
  serviceAccounts: [
    { name: 'admins', rbacRule: "'admins' in groups", precedence: 10, rules: [{ verbs: ['*'], resources: ['*'], namespaces: ['*'] }] },
    { name: 'team-a', rbacRule: "email endsWith '@example.com' && !('contractors' in groups)", precedence: 5, rules: [{ verbs: ['get'], resources: ['workflows'], namespaces: ['team-a'] }] },
    { name: 'also-5', rbacRule: 'email == "alice@example.com"', precedence: 5, rules: [] },
    { name: 'broken', rbacRule: 'email', precedence: 20, rules: [{ verbs: ['*'], resources: ['*'], namespaces: ['*'] }] },
  ],
};

async function serverWith(modes: AuthMode[], rbac: boolean): Promise<TestServer> {
  const home = await temporaryHome();
  await writeFile(policyFilePath(home), stringify(POLICY));
  const authorizer = await PolicyFileAuthorizer.load(policyFilePath(home));
  const directory = { candidates: async (namespace: string) => authorizer.serviceAccountCandidates(namespace) };
  const sessions = new SsoSessions(key, rbac ? { directory, namespace: 'argo', delegateToNamespace: false } : undefined, systemClock);
  return startTestServer({ home, authModes: modes }, { authorizer, apiRoutes: [probe], sso: { sessions, routes: oauth2DisabledRoutes } });
}

describe("SPEC §7.7 mode selection, one row at a time (Argo's mode.go)", () => {
  it('selectAuthMode: the header wins over the cookie, Bearer v2 selects sso first, server is the fallback', () => {
    const cookie = 'authorization="Bearer v2:abc"';
    expect(selectAuthMode(['sso', 'client'], undefined, cookie)).toEqual({ mode: 'sso', session: 'Bearer v2:abc' });
    expect(selectAuthMode(['sso', 'client'], 'Bearer plain', cookie)).toEqual({ mode: 'client', token: 'plain' });
    expect(selectAuthMode(['client'], 'Bearer v2:abc', undefined)).toEqual({ mode: 'client', token: 'v2:abc' });
    expect(selectAuthMode(['sso', 'server'], undefined, undefined)).toEqual({ mode: 'server' });
    expect(selectAuthMode(['sso', 'server'], 'Bearer plain', undefined)).toEqual({ mode: 'server' });
    expect(selectAuthMode(['sso'], 'Bearer plain', undefined)).toEqual({ mode: 'none' });
  });

  describe('sso + client', () => {
    let server: TestServer;
    beforeAll(async () => (server = await serverWith(['sso', 'client'], false)));
    afterAll(() => server?.close());

    it('a session acts as the server (rbac off), a token as its subject, a bad session is 401 without falling back', async () => {
      const asSso = await server.fetch('/api/v1/probe/anywhere', { headers: { cookie: `authorization="${await session()}"` } });
      expect(asSso.status).toBe(200);
      expect(asSso.json()).toEqual({ subject: 'alice@example.com', serviceAccount: null });
      const asClient = await server.fetch('/api/v1/probe/team-b', { headers: { authorization: `Bearer ${CLIENT_TOKEN}` } });
      expect(asClient.json()).toEqual({ subject: 'bob', serviceAccount: null });
      const expired = await server.fetch('/api/v1/probe/team-b', { headers: { authorization: await session({ exp: Math.floor(Date.now() / 1000) - 120 }) } });
      expect(expired.status).toBe(401);
      expect(expired.json()).toEqual({ code: 16, message: 'failed to validate claims: token is expired (exp)' });
      const nothing = await server.fetch('/api/v1/probe/team-b');
      expect(nothing.status).toBe(401);
    });

    it('the API client (CLI and provider) sends a Bearer v2 token as given, and a bare token with Bearer', async () => {
      const as = (token: string) => new ApiClient({ server: server.url, token, insecureSkipVerify: true }).send<Record<string, unknown>>('GET', '/api/v1/userinfo');
      expect(await as(await session())).toMatchObject({ subject: 'alice', email: 'alice@example.com' });
      expect(await as(CLIENT_TOKEN)).toEqual({ subject: 'bob' });
    });
  });

  describe('sso + server', () => {
    let server: TestServer;
    beforeAll(async () => (server = await serverWith(['sso', 'server'], false)));
    afterAll(() => server?.close());

    it('no credential acts as the server; a tampered session is 401, not the server', async () => {
      expect((await server.fetch('/api/v1/userinfo')).json()).toEqual({});
      const tampered = `${(await session()).slice(0, -4)}AAAA`;
      const response = await server.fetch('/api/v1/userinfo', { headers: { cookie: `authorization=${encodeURIComponent(tampered)}` } });
      expect(response.status).toBe(401);
      expect(response.json()).toEqual({ code: 16, message: 'failed to decrypt token' });
    });
  });

  describe('client only', () => {
    let server: TestServer;
    beforeAll(async () => (server = await serverWith(['client'], false)));
    afterAll(() => server?.close());

    it('a Bearer v2 session is taken for a client token, and refused as one', async () => {
      const response = await server.fetch('/api/v1/userinfo', { headers: { authorization: await session() } });
      expect(response.status).toBe(401);
      expect((response.json() as { message: string }).message).toMatch(/^token not valid/);
    });
  });

  describe('sso with rbac.enabled and the policy file', () => {
    let server: TestServer;
    beforeAll(async () => (server = await serverWith(['sso'], true)));
    afterAll(() => server?.close());
    const probeAs = async (claims: Partial<SessionClaims>, namespace: string) => server.fetch(`/api/v1/probe/${namespace}`, { headers: { authorization: await session(claims) } });

    it('picks the highest-precedence rule that holds, skipping a rule that cannot be evaluated', async () => {
      const admin = await probeAs({ groups: ['admins'] }, 'team-z');
      expect(admin.json()).toEqual({ subject: 'alice@example.com', serviceAccount: 'admins' });
      // precedence 5 twice: the tie goes to the name that sorts first (also-5, which has no rules → 403).
      const tie = await probeAs({ groups: ['devs'] }, 'team-a');
      expect(tie.status).toBe(403);
      expect(tie.json()).toEqual({ code: 7, message: 'Permission denied, you are not allowed to get workflows in namespace "team-a".' });
      expect(server.logs.some((line) => line.includes('broken'))).toBe(true);
    });

    it('an absent claim is empty, not an error; no matching rule is 403 "not allowed"', async () => {
      const contractor = await probeAs({ email: 'carol@example.com', groups: ['contractors'] }, 'team-a');
      expect(contractor.status).toBe(403);
      expect(contractor.json()).toEqual({ code: 7, message: 'not allowed' });
      const noGroups = await probeAs({ email: 'dave@example.com', groups: undefined }, 'team-a');
      expect(noGroups.json()).toEqual({ subject: 'dave@example.com', serviceAccount: 'team-a' });
    });

    it('userinfo shows the ServiceAccount chosen', async () => {
      const response = await server.fetch('/api/v1/userinfo', { headers: { authorization: await session({ groups: ['admins'] }) } });
      expect(response.json()).toEqual({ issuer: 'argo-server', subject: 'alice', email: 'alice@example.com', groups: ['admins'], serviceAccountName: 'admins', serviceAccountNamespace: 'argo' });
    });
  });
});
