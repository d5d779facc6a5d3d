import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../runtime/clock.js';
import { readSsoSection } from '../../../runtime/config/sso-section.js';
import { startSso } from '../../../runtime/server/auth/sso/sso-service.js';
import type { SiteOptions } from '../../../runtime/server/request-origin.js';
import { startOpenIdProvider, type TestOpenIdProvider } from '../../support/openid-provider.js';
import { startTestServer, type TestServer } from '../server-harness.js';

/** Where `/oauth2/redirect` tells the provider to send the code, or the page's text when it refuses. */
async function callbackUrl(server: TestServer, headers: Record<string, string>): Promise<string> {
  const response = await server.fetch('/oauth2/redirect', { headers });
  if (response.status !== 302) return `${response.status}: ${response.text}`;
  return new URL(response.headers.location as string).searchParams.get('redirect_uri')!;
}

describe('the SSO callback URL without sso.redirectUrl is built only on trusted values', () => {
  let provider: TestOpenIdProvider;
  const servers: TestServer[] = [];
  const start = async (site: Partial<SiteOptions>) => {
    const home = await mkdtemp(join(tmpdir(), 'argosync-sso-callback-'));
    const problems: { path: string; reason: string }[] = [];
    const sso = readSsoSection({ issuer: provider.issuer, clientIdValue: 'argosync', clientSecretValue: 'secret', rootCA: provider.certificate }, problems);
    expect(problems).toEqual([]);
    const input: SiteOptions = { secure: true, trustedProxies: [], allowedHosts: [], address: '0.0.0.0', ...site };
    const service = await startSso({ sso, home, kubernetes: undefined, namespace: 'default', resolveSecret: () => Promise.reject(new Error('no secrets')), policyServiceAccounts: undefined, baseHref: '/', site: input, clock: systemClock });
    const server = await startTestServer({ home, authModes: ['sso'], ...input }, { sso: service });
    servers.push(server);
    return server;
  };
  beforeAll(async () => {
    provider = await startOpenIdProvider([], [{ clientId: 'argosync', clientSecret: 'secret', redirectUris: ['https://argosync.example.com/oauth2/callback'] }]);
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await provider?.close();
  });

  it('never on a Host the server does not own: a request cannot choose where the provider sends the code', async () => {
    const server = await start({ allowedHosts: ['argosync.example.com'] });
    for (const host of ['evil.example', 'evil.example:443', 'argosync.example.com@evil.example', 'argosync.example.com:443@evil.example', 'argosync.example.com/x', 'localhost:1 evil', 'argosync.example.com:65536', 'localhost:0', 'localhost:0443', '[::1]:99999', '[1:2]']) {
      const refused = await callbackUrl(server, { host });
      expect(refused, host).toMatch(/^400: .*Set sso\.redirectUrl, or list the name with --allowed-hosts/);
    }
    expect(await callbackUrl(server, { host: 'argosync.example.com:8443' })).toBe('https://argosync.example.com:8443/oauth2/callback');
    expect(await callbackUrl(server, { host: 'localhost:2746' })).toBe('https://localhost:2746/oauth2/callback');
  });

  it('ignores X-Forwarded-Host and X-Forwarded-Proto from a peer that is not a trusted proxy', async () => {
    const server = await start({ allowedHosts: ['argosync.example.com'] });
    expect(await callbackUrl(server, { host: 'argosync.example.com', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' })).toBe('https://argosync.example.com/oauth2/callback');
    expect(await callbackUrl(server, { host: 'evil.example', 'x-forwarded-host': 'argosync.example.com' })).toMatch(/^400: /);
  });

  it('takes the scheme and host a trusted TLS-terminating proxy forwards, still only on the server’s own names', async () => {
    const server = await start({ secure: false, trustedProxies: ['127.0.0.1'], allowedHosts: ['argosync.example.com'] });
    expect(await callbackUrl(server, { host: 'internal:2746', 'x-forwarded-host': 'argosync.example.com', 'x-forwarded-proto': 'https' })).toBe('https://argosync.example.com/oauth2/callback');
    // A proxy that passes a client's X-Forwarded-Host through still cannot point the provider elsewhere.
    expect(await callbackUrl(server, { host: 'internal:2746', 'x-forwarded-host': 'evil.example, argosync.example.com', 'x-forwarded-proto': 'https' })).toMatch(/^400: /);
  });

  it('uses sso.redirectUrl as configured whatever the request says', async () => {
    const home = await mkdtemp(join(tmpdir(), 'argosync-sso-callback-'));
    const problems: { path: string; reason: string }[] = [];
    const sso = readSsoSection({ issuer: provider.issuer, clientIdValue: 'argosync', clientSecretValue: 'secret', rootCA: provider.certificate, redirectUrl: 'https://argosync.example.com/oauth2/callback' }, problems);
    const site = { secure: true, trustedProxies: [], allowedHosts: [], address: '0.0.0.0' };
    const service = await startSso({ sso, home, kubernetes: undefined, namespace: 'default', resolveSecret: () => Promise.reject(new Error('no secrets')), policyServiceAccounts: undefined, baseHref: '/', site, clock: systemClock });
    const server = await startTestServer({ home, authModes: ['sso'], ...site }, { sso: service });
    servers.push(server);
    expect(await callbackUrl(server, { host: 'evil.example' })).toBe('https://argosync.example.com/oauth2/callback');
    // The name it gives is one of this server's own: a signed-in browser's change made on it passes the
    // same-origin check without --allowed-hosts (404: no route answers POST /api/v1/version), another name's not.
    const change = (host: string) =>
      server.fetch('/api/v1/version', { method: 'POST', headers: { host, origin: `https://${host}`, cookie: 'authorization="Bearer v2:x"', 'content-type': 'application/json' }, body: '{}' });
    expect((await change('argosync.example.com')).status).toBe(404);
    expect((await change('evil.example')).status).toBe(403);
  });
});
