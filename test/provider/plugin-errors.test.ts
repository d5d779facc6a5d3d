import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import emptyPb from 'google-protobuf/google/protobuf/empty_pb.js';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime, type RunningRuntime } from '../../runtime/runtime-process.js';
import { EngineHarness, secret } from '../support/engine-harness.js';
import { insecureAgent } from '../support/runtime-api.js';

const LIMIT = 'argosync:index:SemaphoreLimit';

describe('the plugin when the API pushes back or is not there', () => {
  let home: string;
  let runtime: RunningRuntime;
  let engine: EngineHarness;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'argosync-plugin-errors-'));
    // Three requests a second per client: an up needs more, so it meets 429s.
    runtime = await startRuntime({ home }, { port: 0, logFormat: 'json', apiRateLimit: 3, apiRateLimitWindow: '1s' }, () => undefined);
    engine = await EngineHarness.launch();
  });
  afterAll(async () => {
    await engine?.close();
    await runtime?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('retries a 429 after Retry-After and succeeds', async () => {
    await engine.configure({ endpoint: runtime.url, token: secret(runtime.token!), insecureSkipVerify: true });
    for (const key of ['a', 'b', 'c']) expect((await engine.up(LIMIT, key, { key, limit: 1 })).operation).toBe('create');
    expect(await metricsAfterRateLimit()).toMatch(/argosync_http_requests_total\{[^}]*status="429"[^}]*\} [1-9]/);
  });

  /** /metrics is rate limited too: ask again when the server says to. */
  async function metricsAfterRateLimit(): Promise<string> {
    for (;;) {
      const response = await request(`${runtime.url}metrics`, { dispatcher: insecureAgent });
      const text = await response.body.text();
      if (response.statusCode !== 429) return text;
      const retryAt = Date.parse(String(response.headers['retry-after']));
      await new Promise((resolve) => setTimeout(resolve, Math.max(retryAt - Date.now(), 0) + 50));
    }
  }

  it('names the URL and the cause when the endpoint cannot be reached', async () => {
    await engine.configure({ endpoint: 'https://127.0.0.1:1', insecureSkipVerify: true });
    await expect(engine.up(LIMIT, 'unreachable', { key: 'u', limit: 1 })).rejects.toThrow(/127\.0\.0\.1:1.*(ECONNREFUSED|refused)/);
  });

  it('stops a request waiting on Retry-After when the engine sends Cancel', async () => {
    // An API that always pushes back for half a minute; the provider would otherwise wait and retry five times.
    let firstRefusal!: () => void;
    const refused = new Promise<void>((resolve) => (firstRefusal = resolve));
    const api = createServer((_request, response) => {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' }).end('{"code":8,"message":"too many requests"}');
      firstRefusal();
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const cancelled = await EngineHarness.launch();
    try {
      await cancelled.configure({ endpoint: `http://127.0.0.1:${(api.address() as AddressInfo).port}` });
      const creating = expect(cancelled.up(LIMIT, 'patient', { key: 'p', limit: 1 })).rejects.toThrow(/cancelled: POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/sync\/default was stopped before it completed/);
      await refused;
      await cancelled.rpc('cancel', new emptyPb.Empty());
      await creating;
    } finally {
      await cancelled.close();
      api.close();
    }
  });
});
