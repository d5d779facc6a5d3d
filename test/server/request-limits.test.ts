import { connect, type Socket } from 'node:net';
import type { FastifyPluginAsync } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './server-harness.js';

const MAX_CONNECTIONS = 4;
let server: TestServer;
let port: number;

beforeAll(async () => {
  // A state-changing route behind authentication, as the API's are.
  const echo: FastifyPluginAsync = async (api) => {
    api.post('/echo', async (request) => request.body);
  };
  server = await startTestServer({ secure: false, authModes: ['client'], maxConnectionsPerIp: MAX_CONNECTIONS }, { apiRoutes: [echo] });
  port = Number(new URL(server.url).port);
});
afterAll(() => server.close());

/** A raw connection: what it received, and a promise of its end. */
function open(to = port): Promise<{ socket: Socket; received: () => string; closed: Promise<void>; isClosed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let text = '';
    let ended = false;
    const socket = connect(to, '127.0.0.1');
    const closed = new Promise<void>((done) => socket.once('close', () => ((ended = true), done())));
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, received: () => text, closed, isClosed: () => ended }));
  });
}

/** Resolves once `received()` holds a whole response head and body of `Content-Length`. */
async function response(connection: Awaited<ReturnType<typeof open>>): Promise<{ status: number; body: unknown }> {
  for (;;) {
    const text = connection.received();
    const [head, body = ''] = text.split('\r\n\r\n');
    const length = Number(/content-length: (\d+)/i.exec(head ?? '')?.[1] ?? Number.NaN);
    if (text.includes('\r\n\r\n') && body.length >= length) return { status: Number(text.split(' ')[1]), body: JSON.parse(body) };
    if (connection.isClosed()) throw new Error(`the connection closed without a whole response: ${JSON.stringify(text)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('requests and connections are bounded (SPEC §7.6)', () => {
  it('checks the token before reading a body: a client without one gets 401 while its body is still unsent', async () => {
    const connection = await open();
    connection.socket.write('POST /api/v1/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"key":');
    expect(await response(connection)).toEqual({ status: 401, body: { code: 16, message: expect.stringMatching(/^token not valid/) } });
    connection.socket.destroy();
  });

  it('closes connections beyond the per-address cap at once', async () => {
    const held = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => open()));
    const extra = await open();
    await extra.closed;
    expect(extra.received()).toBe('');
    for (const connection of held) connection.socket.destroy();
    await Promise.all(held.map((connection) => connection.closed));
    const later = await open();
    later.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await later.closed;
    expect(later.received()).toMatch(/^HTTP\/1\.1 200/);
  });

  it('bounds the whole request to 60 s, its headers to 10 s and idle keep-alive to 5 s', () => {
    const http = server.running.app.server;
    expect({ request: http.requestTimeout, headers: http.headersTimeout, keepAlive: http.keepAliveTimeout }).toEqual({ request: 60_000, headers: 10_000, keepAlive: 5_000 });
  });

  it("answers the framework's own refusals in the {code, message} shape", async () => {
    const badEscape = await server.fetch('/api/v1/sync/%ZZ/k');
    expect({ status: badEscape.status, body: badEscape.json() }).toEqual({ status: 400, body: { code: 3, message: expect.any(String) } });
    const connection = await open();
    connection.socket.write(`GET /x?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    expect(await response(connection)).toEqual({ status: 431, body: { code: 3, message: expect.any(String) } });
    const deep = await server.fetch('/no-route', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `${'['.repeat(5000)}${']'.repeat(5000)}` });
    expect({ status: deep.status, body: deep.json() }).toEqual({ status: 400, body: { code: 3, message: 'request body is nested more than 64 levels deep' } });
  });

  it('answers a request without a Host, or with two, 400 {code, message}: HTTP/1.1 wants exactly one', async () => {
    const heads = ['GET /healthz HTTP/1.1', 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nHost: evil.example', 'GET /healthz HTTP/1.1\r\nHost: evil.example\r\nhost: localhost'];
    for (const head of heads) {
      const connection = await open();
      connection.socket.write(`${head}\r\n\r\n`);
      expect(await response(connection), head).toEqual({ status: 400, body: { code: 3, message: 'the request must carry exactly one Host header' } });
      connection.socket.destroy();
    }
    const http10 = await open();
    http10.socket.write('GET /healthz HTTP/1.0\r\n\r\n');
    // HTTP/1.0 may leave Host out; this loopback server then refuses it as a name not its own.
    expect(await response(http10)).toEqual({ status: 403, body: { code: 7, message: expect.stringContaining('--allowed-hosts') } });
    http10.socket.destroy();
  });

  it('keeps secret query values out of the request log', async () => {
    await server.fetch('/healthz?token=do-not-log&access_token=nor-this&password=nor-that&page=2');
    const line = server.logs.find((entry) => entry.includes('"request completed"') && entry.includes('page=2'));
    expect(line).toContain('token=***');
    expect(server.logs.join('\n')).not.toMatch(/do-not-log|nor-this|nor-that/);
  });
});

describe('the per-client connection cap behind a trusted proxy (SPEC §7.6, --trusted-proxies)', () => {
  const CAP = 2;
  const waiting = new Set<() => void>();
  let proxied: TestServer;
  let proxiedPort: number;
  beforeAll(async () => {
    // A request that stays open until the test lets it go, as a slow response or an event stream does.
    const hold: FastifyPluginAsync = async (api) => {
      api.get('/hold', async () => {
        await new Promise<void>((release) => waiting.add(release));
        return {};
      });
    };
    // The test's connections come from 127.0.0.1, the proxy.
    proxied = await startTestServer({ secure: false, trustedProxies: ['127.0.0.1', '10.255.0.1'], maxConnectionsPerIp: CAP }, { apiRoutes: [hold] });
    proxiedPort = Number(new URL(proxied.url).port);
  });
  afterAll(() => proxied?.close());

  /** A request the proxy forwards for `forwardedFor`, on a connection of its own. */
  const through = async (forwardedFor: string) => {
    const connection = await open(proxiedPort);
    connection.socket.write(`GET /api/v1/hold HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: ${forwardedFor}\r\n\r\n`);
    return connection;
  };
  const heldCount = async (count: number) => {
    while (waiting.size < count) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  const releaseAll = () => {
    for (const release of waiting) release();
    waiting.clear();
  };

  it('counts the clients the proxy reports, not the proxy: more connections than the cap pass, each client is capped', async () => {
    const clientA = await Promise.all([through('192.0.2.1'), through('192.0.2.1, 10.255.0.1')]);
    const others = await Promise.all([through('192.0.2.2'), through('198.51.100.7, 192.0.2.3')]);
    await heldCount(4);
    const extraA = await through('203.0.113.9, 192.0.2.1');
    expect(await response(extraA)).toEqual({ status: 429, body: { code: 8, message: `too many open connections from this client: at most ${CAP} at a time` } });
    expect(extraA.received()).toMatch(/x-ratelimit-remaining: \d+/i);
    releaseAll();
    for (const connection of [...clientA, ...others]) expect((await response(connection)).status).toBe(200);
    // Once its responses are written, the client has its places back, on the same connections or new ones.
    const again = await through('192.0.2.1');
    await heldCount(1);
    releaseAll();
    expect((await response(again)).status).toBe(200);
    for (const connection of [...clientA, ...others, extraA, again]) connection.socket.destroy();
  });

  it("gives back a client's place when its connection drops mid-request", async () => {
    const dropped = await Promise.all(Array.from({ length: CAP }, () => through('192.0.2.50')));
    await heldCount(CAP);
    for (const connection of dropped) connection.socket.destroy();
    await Promise.all(dropped.map((connection) => connection.closed));
    releaseAll();
    const after = await through('192.0.2.50');
    await heldCount(1);
    releaseAll();
    expect((await response(after)).status).toBe(200);
    after.socket.destroy();
  });
});
