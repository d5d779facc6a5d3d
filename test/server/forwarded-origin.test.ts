import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './server-harness.js';

/** A state-changing browser request with the session cookie and an `Origin`, but no `Sec-Fetch-Site` (older browsers). */
const browserChange = (origin: string, forwarded: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { cookie: 'authorization=Bearer%20x', origin, 'content-type': 'application/json', ...forwarded },
  body: '{}',
});
const PUBLIC = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'argosync.example.com' };

describe('the same-origin check behind a TLS-terminating proxy (SPEC §7.6)', () => {
  let proxied: TestServer;
  let direct: TestServer;
  beforeAll(async () => {
    // The proxy terminates TLS and talks plain HTTP to the server; the test's connections come from it.
    proxied = await startTestServer({ secure: false, trustedProxies: ['127.0.0.1'], allowedHosts: ['argosync.example.com'] });
    direct = await startTestServer({ secure: false, allowedHosts: ['argosync.example.com'] });
  });
  afterAll(async () => {
    await proxied?.close();
    await direct?.close();
  });

  it('accepts the page the browser loaded through the proxy: its origin is the forwarded scheme and host, not --secure', async () => {
    // No route answers POST /api/v1/version: 404 means the request got past the check.
    const through = await proxied.fetch('/api/v1/version', browserChange('https://argosync.example.com', PUBLIC));
    expect(through.status).toBe(404);
    const proxyKeepsHost = await proxied.fetch('/api/v1/version', browserChange('https://argosync.example.com', { host: 'argosync.example.com', 'x-forwarded-proto': 'https' }));
    expect(proxyKeepsHost.status).toBe(404);
  });

  it('still refuses another origin through the trusted proxy', async () => {
    const evil = await proxied.fetch('/api/v1/version', browserChange('https://evil.example', PUBLIC));
    expect(evil.status).toBe(403);
    expect(evil.json()).toMatchObject({ code: 7 });
    const downgraded = await proxied.fetch('/api/v1/version', browserChange('http://argosync.example.com', PUBLIC));
    expect(downgraded.status).toBe(403);
  });

  it('ignores X-Forwarded-Proto and X-Forwarded-Host from a peer that is not a trusted proxy: they cannot make a foreign origin match', async () => {
    const forged = await direct.fetch('/api/v1/version', browserChange('https://evil.example', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }));
    expect(forged.status).toBe(403);
    const port = new URL(direct.url).port;
    const own = await direct.fetch('/api/v1/version', browserChange(`http://localhost:${port}`, { host: `localhost:${port}`, 'x-forwarded-proto': 'https' }));
    expect(own.status).toBe(404);
  });
});

describe("the same-origin check accepts only this server's own names (SPEC §7.6, DNS rebinding)", () => {
  let everywhere: TestServer;
  beforeAll(async () => {
    // Bound to every interface, so no Host check runs first: the same-origin check alone stands between a page and a change.
    everywhere = await startTestServer({ secure: false, address: '0.0.0.0', allowedHosts: ['argosync.example.com'] });
  });
  afterAll(() => everywhere?.close());

  it("refuses a page on an attacker's name re-pointed at the server, whose Host, Origin and Sec-Fetch-Site all agree", async () => {
    const port = new URL(everywhere.url).port;
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.nip.io:${port}`]) {
      const page = `http://${host}`;
      for (const marks of <Record<string, string>[]>[{ origin: page }, { origin: page, 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'same-origin', cookie: 'authorization=Bearer%20x' }]) {
        const refused = await everywhere.fetch('/api/v1/version', { method: 'POST', headers: { host, ...marks, 'content-type': 'application/json' }, body: '{}' });
        expect(refused.status, `${host} ${JSON.stringify(marks)}`).toBe(403);
        expect(refused.json(), host).toEqual({ code: 7, message: expect.stringContaining('list the name with --allowed-hosts') });
      }
    }
  });

  it('accepts the same request on a name of its own: loopback, or listed with --allowed-hosts', async () => {
    const port = new URL(everywhere.url).port;
    for (const host of [`localhost:${port}`, `argosync.example.com:${port}`, 'argosync.example.com']) {
      const own = await everywhere.fetch('/api/v1/version', browserChange(`http://${host}`, { host }));
      expect(own.status, host).toBe(404);
    }
  });
});
