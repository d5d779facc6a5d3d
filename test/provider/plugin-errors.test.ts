import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
});
