import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../runtime/clock.js';
import { readSsoSection, type RawSsoSection } from '../../../runtime/config/sso-section.js';
import { MAX_CLAIM_LENGTH, MAX_GROUPS } from '../../../runtime/server/auth/sso/claim-bounds.js';
import { startSso } from '../../../runtime/server/auth/sso/sso-service.js';
import { freePorts, startOpenIdProvider, type TestOpenIdProvider } from '../../support/openid-provider.js';
import { CookieJar, hop, signInUntilCallback } from '../../support/sso-sign-in.js';
import { insecureAgent } from '../../support/runtime-api.js';
import { startTestServer, type TestServer } from '../server-harness.js';

const ACCOUNTS = [
  { sub: 'alice', email: 'alice@example.com', name: 'Alice', groups: ['admins', 'team-a', 'everyone'], userinfoGroups: ['from-userinfo'], roles: ['role-x'] },
];

interface Deployment {
  readonly port: number;
  readonly baseHref: string;
  readonly clientId: string;
  readonly sso: Partial<RawSsoSection>;
}

const DEPLOYMENTS = {
  plain: { baseHref: '/', clientId: 'argosync', sso: {} },
  userInfo: { baseHref: '/', clientId: 'argosync', sso: { userInfoPath: '/me' } },
  customClaim: { baseHref: '/', clientId: 'argosync', sso: { customGroupClaimName: 'roles' } },
  filtered: { baseHref: '/', clientId: 'argosync', sso: { filterGroupsRegex: ['^team-', '^admins$'] } },
  alias: { baseHref: '/', clientId: 'argosync', sso: { issuerAlias: 'https://alias.example' } },
  bodyAuth: { baseHref: '/argo/', clientId: 'argosync-post', sso: {} },
} as const;
type Name = keyof typeof DEPLOYMENTS;

describe('SSO sign-in against a real OpenID Provider over HTTPS', () => {
  let provider: TestOpenIdProvider;
  let providerAgent: Agent;
  const servers = {} as Record<Name, TestServer>;
  const deployments = {} as Record<Name, Deployment>;

  beforeAll(async () => {
    const ports = await freePorts(Object.keys(DEPLOYMENTS).length + 1);
    Object.entries(DEPLOYMENTS).forEach(([name, deployment], i) => (deployments[name as Name] = { ...deployment, port: ports[i]! }));
    const callbacks = (clientId: string) =>
      Object.values(deployments)
        .filter((d) => d.clientId === clientId)
        .map((d) => `https://127.0.0.1:${d.port}${d.baseHref}oauth2/callback`);
    provider = await startOpenIdProvider(ACCOUNTS, [
      { clientId: 'argosync', clientSecret: 'secret-basic', redirectUris: callbacks('argosync') },
      { clientId: 'argosync-post', clientSecret: 'secret-post', redirectUris: callbacks('argosync-post'), authMethod: 'client_secret_post' },
    ], ports.at(-1));
    providerAgent = new Agent({ connect: { ca: provider.certificate } });
    for (const [name, deployment] of Object.entries(deployments)) {
      const home = await mkdtemp(join(tmpdir(), 'argosync-sso-'));
      const problems: { path: string; reason: string }[] = [];
      const sso = readSsoSection(
        { issuer: provider.issuer, clientIdValue: deployment.clientId, clientSecretValue: deployment.clientId === 'argosync' ? 'secret-basic' : 'secret-post', rootCA: provider.certificate, scopes: ['email', 'profile', 'groups'], ...deployment.sso },
        problems,
      );
      expect(problems).toEqual([]);
      const service = await startSso({ sso, home, kubernetes: undefined, namespace: 'default', resolveSecret: () => Promise.reject(new Error('no secrets')), policyServiceAccounts: undefined, baseHref: deployment.baseHref, site: { secure: true, trustedProxies: [], allowedHosts: [], address: '127.0.0.1' }, clock: systemClock });
      servers[name as Name] = await startTestServer({ home, port: deployment.port, authModes: ['sso', 'client'], baseHref: deployment.baseHref }, { sso: service });
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((server) => server.close()));
    await provider?.close();
  });

  const agents = () => ({ argosync: insecureAgent, provider: providerAgent });
  const origin = (name: Name) => `https://127.0.0.1:${deployments[name].port}`;
  const signIn = async (name: Name, redirect = '') => {
    const jar = new CookieJar();
    const query = redirect === '' ? '' : `?redirect=${encodeURIComponent(redirect)}`;
    const run = await signInUntilCallback(jar, `${origin(name)}${deployments[name].baseHref}oauth2/redirect${query}`, 'alice', agents());
    const callback = await hop(jar, run.callbackUrl, insecureAgent);
    return { jar, run, callback };
  };
  const userInfo = async (name: Name, cookie: string | undefined) => {
    const response = await request(`${origin(name)}/api/v1/userinfo`, { dispatcher: insecureAgent, headers: cookie === undefined ? {} : { cookie: `authorization=${cookie}` } });
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
  };

  it('sends the browser to the provider with state, nonce and a PKCE S256 challenge', async () => {
    const start = await hop(new CookieJar(), `${origin('plain')}/oauth2/redirect`, insecureAgent);
    expect(start.status).toBe(302);
    const target = new URL(start.location!);
    expect(target.origin).toBe(provider.issuer);
    const params = Object.fromEntries(target.searchParams);
    expect(params).toMatchObject({ response_type: 'code', client_id: 'argosync', redirect_uri: `${origin('plain')}/oauth2/callback`, scope: 'email profile groups openid', code_challenge_method: 'S256' });
    expect(params.state).toMatch(/^[\w-]{20,}$/);
    expect(params.nonce).toMatch(/^[\w-]{20,}$/);
    expect(params.code_challenge).toMatch(/^[\w-]{43}$/);
    expect(start.setCookies).toEqual([expect.stringMatching(/^argosync-sso=[^;]+; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Lax$/)]);
  });

  it('signs in: Argo-style session cookie, redirect to the requested path, then API calls with the cookie', async () => {
    const { jar, callback } = await signIn('plain', '/#namespace=team-a');
    expect(callback.status).toBe(302);
    expect(callback.location).toBe(`${origin('plain')}/#namespace=team-a`);
    const session = callback.setCookies.find((line) => line.startsWith('authorization='));
    expect(session).toMatch(/^authorization="Bearer v2:[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+"; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Strict$/);
    const cookie = jar.get(origin('plain'), 'authorization');
    const info = await userInfo('plain', cookie);
    expect(info).toEqual({ status: 200, body: { issuer: 'argo-server', subject: 'alice', email: 'alice@example.com', name: 'Alice', groups: ['admins', 'team-a', 'everyone'] } });
    // The same session sent as a header, as the CLI does with ARGOSYNC_TOKEN.
    const viaHeader = await request(`${origin('plain')}/api/v1/userinfo`, { dispatcher: insecureAgent, headers: { authorization: cookie!.replace(/^"|"$/g, '') } });
    expect(viaHeader.statusCode).toBe(200);
    await viaHeader.body.text();
  });

  it.each(['//evil.example', '/\\evil.example', 'https://evil.example/', '/%2e%2e//evil.example', '/\t/evil.example'])('ignores a redirect to %j and lands on the base href', async (redirect) => {
    const { callback } = await signIn('plain', redirect);
    expect(callback.status).toBe(302);
    expect(callback.location).toBe(`${origin('plain')}/`);
  });

  it('refuses a callback whose state differs from the sign-in cookie (400), and one without the cookie', async () => {
    const jar = new CookieJar();
    const run = await signInUntilCallback(jar, `${origin('plain')}/oauth2/redirect`, 'alice', agents());
    const forged = new URL(run.callbackUrl);
    forged.searchParams.set('state', 'forged-state');
    const mismatch = await hop(jar, forged.href, insecureAgent);
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toContain('does not match this sign-in');
    const noCookie = await hop(new CookieJar(), run.callbackUrl, insecureAgent);
    expect(noCookie.status).toBe(400);
    expect(noCookie.body).toContain('cookie is missing or expired');
    expect([...mismatch.setCookies, ...noCookie.setCookies].some((line) => line.startsWith('authorization='))).toBe(false);
  });

  it.each([
    ['nonce', (claims: Record<string, unknown>) => ({ ...claims, nonce: 'another-nonce' }), /nonce/],
    ['audience', (claims: Record<string, unknown>) => ({ ...claims, aud: 'another-client' }), /aud/],
    ['issuer', (claims: Record<string, unknown>) => ({ ...claims, iss: 'https://impostor.example' }), /iss/],
    ['expiry', (claims: Record<string, unknown>) => ({ ...claims, exp: Math.floor(Date.now() / 1000) - 3600 }), /exp/],
  ])('refuses an ID token with the wrong %s (401, no session)', async (_what, change, reason) => {
    provider.tamperIdTokens(change);
    try {
      const { callback } = await signIn('plain');
      expect(callback.status).toBe(401);
      expect(callback.body).toMatch(reason);
      expect(callback.body).not.toMatch(/eyJ/);
      expect(callback.setCookies.some((line) => line.startsWith('authorization='))).toBe(false);
    } finally {
      provider.tamperIdTokens(undefined);
    }
  });

  it.each([
    ['1001 groups', { groups: Array.from({ length: MAX_GROUPS + 1 }, (_, i) => `g${i}`) }, /sent 1001 groups, more than the 1000/],
    ['a group of 257 characters', { groups: ['admins', 'x'.repeat(MAX_CLAIM_LENGTH + 1)] }, /group 2 is longer than 256/],
    ['a group with a newline', { groups: ['admins\nroot'] }, /group 1 .*control characters/],
    ['an email of 257 characters', { email: `${'a'.repeat(MAX_CLAIM_LENGTH)}@example.com` }, /the email claim is longer/],
    ['a sub of 257 characters', { sub: 's'.repeat(MAX_CLAIM_LENGTH + 1) }, /the sub claim is longer/],
    ['a name with a control character', { name: 'Alice\u001b[31m' }, /the name claim .*control characters/],
  ])('refuses a sign-in whose claims are oversized instead of cutting them: %s (401, no session)', async (_what, claims, reason) => {
    provider.tamperIdTokens((original) => ({ ...original, ...claims }));
    try {
      const { callback } = await signIn('plain');
      expect(callback.status).toBe(401);
      expect(callback.body).toMatch(reason);
      expect(callback.setCookies.some((line) => line.startsWith('authorization='))).toBe(false);
    } finally {
      provider.tamperIdTokens(undefined);
    }
  });

  it('accepts as many as 1000 groups of 256 characters (filterGroupsRegex can then narrow them)', async () => {
    provider.tamperIdTokens((original) => ({ ...original, groups: Array.from({ length: MAX_GROUPS }, (_, i) => `${i}`.padStart(MAX_CLAIM_LENGTH, 'g')) }));
    try {
      const { jar, callback } = await signIn('filtered');
      expect(callback.status).toBe(302);
      const info = await userInfo('filtered', jar.get(origin('filtered'), 'authorization'));
      expect(info.status).toBe(200);
      expect(info.body.groups).toBeUndefined();
    } finally {
      provider.tamperIdTokens(undefined);
    }
  });

  it('says so when the provider refuses the sign-in (401), without a session', async () => {
    const jar = new CookieJar();
    const run = await signInUntilCallback(jar, `${origin('plain')}/oauth2/redirect`, 'nobody', agents());
    expect(new URL(run.callbackUrl).searchParams.get('error')).toBe('access_denied');
    const refused = await hop(jar, run.callbackUrl, insecureAgent);
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('The identity provider refused the sign-in: access_denied.');
    expect(refused.setCookies.some((line) => line.startsWith('authorization='))).toBe(false);
  });

  it('with issuerAlias, accepts ID tokens from the alias and refuses the discovery issuer', async () => {
    expect((await signIn('alias')).callback.status).toBe(401);
    provider.tamperIdTokens((claims) => ({ ...claims, iss: 'https://alias.example' }));
    try {
      const accepted = (await signIn('alias')).callback;
      expect(accepted.body).toBe('');
      expect(accepted.status).toBe(302);
    } finally {
      provider.tamperIdTokens(undefined);
    }
  });

  it('takes groups from userInfoPath, from a custom claim, and keeps those filterGroupsRegex matches', async () => {
    const groupsOf = async (name: Name) => {
      const { jar } = await signIn(name);
      return (await userInfo(name, jar.get(origin(name), 'authorization'))).body.groups;
    };
    expect(await groupsOf('userInfo')).toEqual(['from-userinfo']);
    expect(await groupsOf('customClaim')).toEqual(['role-x']);
    expect(await groupsOf('filtered')).toEqual(['admins', 'team-a']);
  });

  it('falls back to client_secret_post and works under --base-href, with the cookie scoped to it', async () => {
    const { jar, callback } = await signIn('bodyAuth', '/argo/#config');
    expect(callback.status).toBe(302);
    expect(callback.location).toBe(`${origin('bodyAuth')}/argo/#config`);
    expect(callback.setCookies.find((line) => line.startsWith('authorization='))).toContain('; Path=/argo/;');
    expect((await userInfo('bodyAuth', jar.get(origin('bodyAuth'), 'authorization'))).status).toBe(200);
  });

  it('logs out: clears the cookie and sends the browser to the end-session endpoint', async () => {
    const logout = await hop(new CookieJar(), `${origin('plain')}/oauth2/logout`, insecureAgent);
    expect(logout.status).toBe(302);
    expect(logout.location).toMatch(new RegExp(`^${provider.issuer}/session/end\\?client_id=argosync$`));
    expect(logout.setCookies).toEqual([expect.stringMatching(/^authorization=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict$/)]);
  });
});
