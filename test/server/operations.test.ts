import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadinessStatus } from '../../runtime/server/routes/operations.js';
import { ManualClock } from '../support/manual-clock.js';
import { startTestServer } from './server-harness.js';
import type { TestServer } from './server-harness.js';

const clock = new ManualClock();
let database: () => Promise<ReadinessStatus> = async () => ({ ready: true });
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(
    {},
    {
      clock,
      readinessChecks: [
        { name: 'database', check: () => database() },
        { name: 'config', check: async () => ({ ready: true, message: 'last good configuration in use' }) },
      ],
    },
  );
});
afterAll(() => server.close());

describe('operations routes', () => {
  it('prints exactly one listening line with the URL', () => {
    expect(server.printed).toEqual([`argosync listening on ${server.url}`]);
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('answers /healthz with ok', async () => {
    const response = await server.fetch('/healthz');
    expect(response.status).toBe(200);
    expect(response.text).toBe('ok');
  });

  it('answers /readyz 200 with every named check when all are ready', async () => {
    database = async () => ({ ready: true });
    const response = await server.fetch('/readyz');
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({
      status: 'ok',
      checks: { database: { ready: true }, config: { ready: true, message: 'last good configuration in use' } },
    });
  });

  it('answers /readyz 503 naming the failing check', async () => {
    database = async () => ({ ready: false, message: 'cannot connect to postgresql at db:5432' });
    const response = await server.fetch('/readyz');
    expect(response.status).toBe(503);
    expect(response.json()).toMatchObject({
      status: 'unavailable',
      checks: { database: { ready: false, message: 'cannot connect to postgresql at db:5432' }, config: { ready: true } },
    });
  });

  it('counts a throwing check as not ready with its message', async () => {
    database = async () => {
      throw new Error('connection refused');
    };
    const response = await server.fetch('/readyz');
    expect(response.status).toBe(503);
    expect(response.json()).toMatchObject({ checks: { database: { ready: false, message: 'connection refused' } } });
  });

  it('counts a check that never answers as not ready once the timeout passes', async () => {
    let called!: () => void;
    const started = new Promise<void>((resolve) => (called = resolve));
    database = () => {
      called();
      return new Promise<ReadinessStatus>(() => {});
    };
    const pending = server.fetch('/readyz');
    await started;
    clock.advance(5000);
    const response = await pending;
    expect(response.status).toBe(503);
    expect(response.json()).toMatchObject({ checks: { database: { ready: false, message: 'no answer within 5000 ms' } } });
  });

  it('serves Prometheus metrics with HTTP request counts by route template and status', async () => {
    await server.fetch('/healthz');
    await server.fetch('/no/such/route');
    const response = await server.fetch('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    expect(response.text).toMatch(/argosync_http_requests_total\{method="GET",route="\/healthz",status="200"\} [1-9]/);
    expect(response.text).toMatch(/argosync_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
    expect(response.text).toContain('argosync_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz",status="200"}');
    expect(response.text).not.toContain('/no/such/route');
  });

  it('serves the version from package.json and the platform', async () => {
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const response = await server.fetch('/api/v1/version');
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ version: manifest.version, platform: `${process.platform}/${process.arch}` });
  });
});
