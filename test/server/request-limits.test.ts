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
function open(): Promise<{ socket: Socket; received: () => string; closed: Promise<void>; isClosed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let text = '';
    let ended = false;
    const socket = connect(port, '127.0.0.1');
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
