import type { FastifyRequest } from 'fastify';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedWindowCounter } from '../../runtime/server/fixed-window-counter.js';
import { httpDateUtc, rateLimitKey } from '../../runtime/server/rate-limit.js';
import { RequestOrigin } from '../../runtime/server/request-origin.js';
import { ManualClock } from '../support/manual-clock.js';
import { startTestServer } from './server-harness.js';
import type { TestResponse, TestServer } from './server-harness.js';

const LIMIT = 3;
const WINDOW_MS = 60_000;
/** A proxy beyond the nearest one, whose own entries in X-Forwarded-For are skipped. */
const PROXY = '10.255.0.1';
/** The nearest proxy: the test's own connections come from it. */
const NEAREST = '127.0.0.1';
/** Counted against the limit (probes and metrics are not). */
const API = '/api/v1/version';
const clock = new ManualClock(Date.UTC(2026, 0, 5, 10, 0, 0, 250));
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(
    { apiRateLimit: LIMIT, apiRateLimitWindow: '1m', rateLimitKeyHeaders: ['X-Real-IP', 'X-Forwarded-For'], trustedProxies: [PROXY, NEAREST] },
    { clock },
  );
});
afterAll(() => server.close());

/** Each test uses its own client address so the windows of different tests never meet; a trusted proxy forwarded it. */
function from(ip: string): { headers: Record<string, string> } {
  return { headers: { 'x-forwarded-for': `${ip}, ${PROXY}` } };
}

function rateHeaders(response: TestResponse): Record<string, unknown> {
  const h = response.headers;
  return {
    limit: h['x-ratelimit-limit'],
    remaining: h['x-ratelimit-remaining'],
    reset: h['x-ratelimit-reset'],
    alias: [h['x-rate-limit-limit'], h['x-rate-limit-remaining'], h['x-rate-limit-reset']],
  };
}

describe('rate limiting', () => {
  it('puts both header families on every response: probes, metrics, API, 404s and errors', async () => {
    const reset = 'Mon, 05 Jan 2026 10:01:01 UTC';
    const client = from('10.0.0.1');
    const responses = [
      await server.fetch(API, client),
      await server.fetch('/healthz', client),
      await server.fetch('/readyz', client),
      await server.fetch('/metrics', client),
      await server.fetch('/no/such/page', client),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 404]);
    expect(responses.map(rateHeaders)).toEqual(
      ['2', '2', '2', '2', '1'].map((remaining) => ({ limit: '3', remaining, reset, alias: ['3', remaining, reset] })),
    );
    const bad = await server.fetch('/api/v1/version', { headers: { 'x-forwarded-for': '10.0.0.2', 'content-type': 'application/json' }, method: 'POST', body: '{' });
    expect(bad.status).toBe(400);
    expect(rateHeaders(bad)).toMatchObject({ limit: '3', remaining: '2' });
  });

  it("puts them on the Host and same-origin checks' refusals too, which come before any route", async () => {
    const client = from('10.0.0.3');
    const foreignHost = await server.fetch(API, { headers: { ...client.headers, host: 'attacker.example' } });
    const crossOrigin = await server.fetch(API, { method: 'POST', headers: { ...client.headers, origin: 'https://attacker.example', 'content-type': 'application/json' }, body: '{}' });
    expect([foreignHost.status, crossOrigin.status]).toEqual([403, 403]);
    expect([foreignHost, crossOrigin].map(rateHeaders)).toEqual([expect.objectContaining({ limit: '3', remaining: '2' }), expect.objectContaining({ limit: '3', remaining: '1' })]);
  });

  it('never counts probes and metrics against the limit (SPEC §7.6), so a busy client cannot fail a liveness probe', async () => {
    const client = from('10.0.0.9');
    for (let i = 0; i < LIMIT * 3; i += 1) {
      for (const probe of ['/healthz', '/readyz', '/metrics']) expect((await server.fetch(probe, client)).status).toBe(200);
    }
    for (let i = 0; i < LIMIT; i += 1) expect((await server.fetch(API, client)).status).toBe(200);
    expect((await server.fetch(API, client)).status).toBe(429);
    expect((await server.fetch('/healthz', client)).status).toBe(200);
  });

  it('refuses the (N+1)th request of a window with 429, code 8 and Retry-After', async () => {
    const client = from('10.0.1.1');
    for (let i = 0; i < LIMIT; i += 1) expect((await server.fetch(API, client)).status).toBe(200);
    const refused = await server.fetch('/api/v1/version', client);
    expect(refused.status).toBe(429);
    expect(refused.json()).toEqual({ code: 8, message: 'Too Many Requests' });
    expect(refused.headers['retry-after']).toBe(refused.headers['x-ratelimit-reset']);
    expect(rateHeaders(refused)).toMatchObject({ limit: '3', remaining: '0' });
    expect(Date.parse(refused.headers['retry-after'] as string)).toBeGreaterThan(clock.now());
  });

  it('keys by the right-most X-Forwarded-For address that is not a trusted proxy, so clients behind one proxy do not share a window', async () => {
    for (let i = 0; i < LIMIT; i += 1) await server.fetch(API, from('10.0.2.1'));
    expect((await server.fetch(API, from('10.0.2.1'))).status).toBe(429);
    expect((await server.fetch(API, from('10.0.2.2'))).status).toBe(200);
  });

  it('ignores the entries a client wrote itself: forging the left of X-Forwarded-For does not open a new window (SPEC §7.6)', async () => {
    const forged = (claimed: string) => ({ headers: { 'x-forwarded-for': `${claimed}, 10.0.2.9, ${PROXY}` } });
    for (let i = 0; i < LIMIT; i += 1) expect((await server.fetch(API, forged(`192.0.2.${i}`))).status).toBe(200);
    expect((await server.fetch(API, forged('192.0.2.200'))).status).toBe(429);
  });

  it('prefers the first non-empty configured header and falls back to the client IP', async () => {
    const realIp = await server.fetch(API, { headers: { 'x-real-ip': '10.0.3.1', 'x-forwarded-for': '10.0.2.1' } });
    expect(realIp.status).toBe(200);
    expect(realIp.headers['x-ratelimit-remaining']).toBe('2');
    const emptyRealIp = await server.fetch(API, { headers: { 'x-real-ip': '', 'x-forwarded-for': '10.0.3.2' } });
    expect(emptyRealIp.headers['x-ratelimit-remaining']).toBe('2');
    const direct = [await server.fetch(API), await server.fetch(API)];
    expect(direct.map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['2', '1']);
  });

  it('with no proxy listed, keys on the entry the nearest proxy appended (SPEC §7.6 default) and warns at start that the port must not be reachable around the proxy', async () => {
    const behindProxy = await startTestServer({ apiRateLimit: LIMIT, apiRateLimitWindow: '1m', rateLimitKeyHeaders: ['X-Forwarded-For'] }, { clock });
    try {
      const remaining = [];
      for (const client of ['192.0.2.1', '192.0.2.1', '192.0.2.2']) {
        remaining.push((await behindProxy.fetch(API, { headers: { 'x-forwarded-for': `203.0.113.9, ${client}` } })).headers['x-ratelimit-remaining']);
      }
      expect(remaining).toEqual(['2', '1', '2']);
      expect(behindProxy.logs.some((line) => line.includes('--rate-limit-key-headers without --trusted-proxies believes the header from every connection'))).toBe(true);
    } finally {
      await behindProxy.close();
    }
  });

  it.each([
    ['only another address is a trusted proxy', [PROXY]],
    // A dual-stack socket's form of the peer is not mistaken for a listed proxy's.
    ['a proxy is trusted that is not the peer', ['::ffff:10.255.0.2']],
  ])('believes no key header from a peer that is not a trusted proxy (%s): rotating X-Forwarded-For and X-Real-IP does not escape the limit', async (_case, trustedProxies) => {
    const direct = await startTestServer({ apiRateLimit: LIMIT, apiRateLimitWindow: '1m', rateLimitKeyHeaders: ['X-Real-IP', 'X-Forwarded-For'], trustedProxies }, { clock });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < LIMIT + 3; i += 1) {
        const rotated = { headers: { 'x-real-ip': `198.51.100.${i}`, 'x-forwarded-for': `203.0.113.${i}, 192.0.2.${i}` } };
        statuses.push((await direct.fetch(API, rotated)).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    } finally {
      await direct.close();
    }
  });

  it('keys on the address the trusted proxy appended, whatever a client rotates to its left', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i += 1) {
      statuses.push((await server.fetch(API, { headers: { 'x-forwarded-for': `192.0.2.${i}, 198.51.100.${i}, 10.0.5.1` } })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('gives an IPv4 client one window whether the proxy wrote its address plainly or in the dual-stack form', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i += 1) statuses.push((await server.fetch(API, from(i % 2 === 0 ? '10.0.6.1' : '::ffff:10.0.6.1'))).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('opens a new window once the clock passes the reset time', async () => {
    const client = from('10.0.4.1');
    for (let i = 0; i < LIMIT; i += 1) await server.fetch(API, client);
    expect((await server.fetch(API, client)).status).toBe(429);
    clock.advance(WINDOW_MS - 1);
    expect((await server.fetch(API, client)).status).toBe(429);
    clock.advance(1);
    const renewed = await server.fetch(API, client);
    expect(renewed.status).toBe(200);
    expect(renewed.headers['x-ratelimit-remaining']).toBe('2');
    expect(renewed.headers['x-ratelimit-reset']).toBe(httpDateUtc(clock.now() + WINDOW_MS));
  });
});

describe('rateLimitKey', () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((parts) => parts.join('.'));
  const request = (peer: string, headers: Record<string, string> = {}) => ({ ip: peer, socket: { remoteAddress: peer }, headers }) as unknown as FastifyRequest;
  const site = (trustedProxies: string[]) => new RequestOrigin({ secure: true, trustedProxies, allowedHosts: [], address: '127.0.0.1' });

  it('keys an IPv4 client the same in both spellings, as the peer and as a forwarded entry, and two clients apart', () => {
    const direct = site([]);
    const proxied = site([PROXY]);
    fc.assert(
      fc.property(ipv4, ipv4, (client, other) => {
        const forwarded = (address: string) => rateLimitKey(request(PROXY, { 'x-forwarded-for': address }), ['x-forwarded-for'], proxied);
        expect(rateLimitKey(request(`::ffff:${client}`), [], direct)).toBe(client);
        expect(forwarded(`::ffff:${client}`)).toBe(forwarded(client));
        expect(forwarded(client) === forwarded(other)).toBe(client === other);
      }),
    );
  });
});

describe('FixedWindowCounter', () => {
  it('evicts expired windows, so memory holds only the clients of one window', () => {
    const counterClock = new ManualClock();
    const counter = new FixedWindowCounter({ limit: 1, windowMs: 1000, clock: counterClock });
    for (let i = 0; i < 50; i += 1) counter.take(`client-${i}`);
    counterClock.advance(500);
    counter.take('late');
    expect(counter.size).toBe(51);
    counterClock.advance(500);
    counter.take('late');
    expect(counter.size).toBe(1);
  });

  it('forgets the oldest window beyond maxKeys', () => {
    const counterClock = new ManualClock();
    const counter = new FixedWindowCounter({ limit: 1, windowMs: 1000, clock: counterClock, maxKeys: 2 });
    counter.take('a');
    counter.take('b');
    counter.take('c');
    expect(counter.size).toBe(2);
    expect(counter.take('b').allowed).toBe(false);
    expect(counter.take('a').allowed).toBe(true);
  });
});

describe('httpDateUtc', () => {
  it('prints RFC 1123 in UTC as Argo does, rounded up to the second', () => {
    expect(httpDateUtc(Date.UTC(2006, 0, 2, 15, 4, 4, 1))).toBe('Mon, 02 Jan 2006 15:04:05 UTC');
    expect(httpDateUtc(Date.UTC(2006, 0, 2, 15, 4, 5))).toBe('Mon, 02 Jan 2006 15:04:05 UTC');
  });
});
