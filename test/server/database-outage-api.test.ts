import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { stringify } from 'yaml';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startRuntime, type RunningRuntime } from '../../runtime/runtime-process.js';
import { createTestDatabase, createWholeDatabase, describeEachDatabase, type TestDatabase } from '../support/databases.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { insecureAgent, runtimeApi } from '../support/runtime-api.js';
import { stateStoreUrl } from '../support/state-store-url.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeEachDatabase(['postgresql', 'mysql'] as const, 'postgresql')('a runtime whose %s sync database goes away', (driver) => {
  let database: Pick<TestDatabase, 'spec' | 'drop'>;
  /** On PostgreSQL, reached directly: only the sync database goes away (and PGlite's start would be slower). */
  let stateStore: TestDatabase;
  let proxy: FaultProxy;
  let home: string;
  let runtime: RunningRuntime | undefined;
  const api = runtimeApi(() => runtime!);
  const readyz = async () => {
    const response = await request(`${runtime!.url}readyz`, { dispatcher: insecureAgent });
    return { status: response.statusCode, json: (await response.body.json()) as { checks: Record<string, { ready: boolean; message?: string }> } };
  };

  beforeAll(async () => {
    database = await createWholeDatabase(driver);
    stateStore = await createTestDatabase('postgresql');
    proxy = await startFaultProxy(database.spec);
    home = await mkdtemp(join(tmpdir(), 'argosync-outage-'));
    const synchronization = {
      controllerName: `outage-${driver}`,
      [driver]: { host: proxy.host, port: proxy.port, database: database.spec.database, userName: database.spec.user ?? 'root' },
      // 100 ms between attempts (baseDelaySeconds 0, not growing), and enough of them (2 s) to wait out the
      // 1 s outage the first test stages at start-up.
      reconnectionConfig: { maxRetries: 20, baseDelaySeconds: 0, maxDelaySeconds: 1, retryMultiple: 1 },
    };
    await writeFile(join(home, 'argosync.yaml'), stringify({ synchronization }));
  });
  afterAll(async () => {
    await runtime?.stop();
    await proxy.close();
    await database.drop();
    await stateStore.drop();
    await rm(home, { recursive: true, force: true });
  });

  it('started during an outage, waits for the database (each attempt logged at warn) and serves once it returns', async () => {
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const capture = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(String(chunk));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    });
    const logged = (level: string, text: string) => lines.some((line) => line.includes(`"level":"${level}"`) && line.includes(text));
    try {
      await proxy.cut();
      const starting = startRuntime({ home, config: join(home, 'argosync.yaml'), stateStore: stateStoreUrl(stateStore.spec) }, { port: 0, logFormat: 'json', logLevel: 'info', apiRateLimit: '1000000' }, () => undefined);
      const waiting = `waiting for the sync database ${driver} at 127.0.0.1:${proxy.port}: attempt 2 of 21 failed (connection refused); retrying in 100 ms`;
      while (!logged('warn', waiting)) {
        if (await Promise.race([starting.then(() => true, () => true), sleep(50).then(() => false)])) throw new Error('started (or failed) without waiting for the database');
      }
      await proxy.heal();
      runtime = await starting;
      expect(logged('info', `waiting for the sync database ${driver} at 127.0.0.1:${proxy.port}: succeeded at attempt`)).toBe(true);
    } finally {
      capture.mockRestore();
    }
    expect(await api('POST', '/sync/default', { type: 'DATABASE', key: 'gpu', limit: 2 })).toMatchObject({ status: 200, json: { key: 'gpu', limit: 2 } });
  });

  it('answers 503 Unavailable naming the database during an outage, /readyz names each store, and 200 after healing', async () => {
    expect((await readyz()).status).toBe(200);
    await proxy.cut();
    // Give the runtime the moment a real outage gives it to see its idle connections close.
    await sleep(50);
    const message = `sync database ${driver} at 127.0.0.1:${proxy.port} is unavailable: connection refused`;
    const lines: string[] = [];
    const capture = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
    try {
      expect(await api('GET', '/sync/default/gpu?type=DATABASE')).toEqual({ status: 503, json: { code: 14, message } });
      const direct = await request(`${runtime!.url}api/v1/sync/default/gpu?type=DATABASE`, { dispatcher: insecureAgent, headers: { authorization: `Bearer ${runtime!.token}` } });
      await direct.body.text();
      expect(direct.headers['retry-after']).toBe('1');
    } finally {
      capture.mockRestore();
    }
    // An outage is expected, not a bug: logged at warn, with no stack.
    const failures = lines.filter((line) => line.includes(message));
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((line) => line.includes('"level":"warn"') && !line.includes('stack'))).toBe(true);
    expect(await readyz()).toEqual({
      status: 503,
      json: {
        status: 'unavailable',
        checks: {
          stateStore: { ready: true, message: `postgresql at ${stateStore.spec.host}:${stateStore.spec.port}/${stateStore.spec.database}` },
          syncDatabase: { ready: false, message },
          persistenceDatabase: { ready: true, message: 'not configured' },
        },
      },
    });
    await proxy.heal();
    expect(await api('GET', '/sync/default/gpu?type=DATABASE')).toMatchObject({ status: 200, json: { key: 'gpu', limit: 2 } });
    expect((await readyz()).json.checks.syncDatabase).toEqual({ ready: true, message: `${driver} at 127.0.0.1:${proxy.port}/${database.spec.database}` });
  });

  it('keeps a workflow that needs a database semaphore waiting through an outage, and runs it once the database is back', async () => {
    const workflow = (name: string) => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      metadata: { name },
      spec: { entrypoint: 'main', synchronization: { semaphores: [{ database: { key: 'gpu' } }] }, templates: [{ name: 'main', script: { image: 'node', command: ['node'], source: 'console.log("ran")' } }] },
    });
    const statusOf = async (name: string) => (await api('GET', `/workflows/default/${name}`)).json.status as { phase?: string; message?: string } | undefined;
    await proxy.cut();
    expect((await api('POST', '/workflows/default', { workflow: workflow('through-outage') })).status).toBe(200);
    await vi.waitFor(async () => expect((await statusOf('through-outage'))?.message).toMatch(/is unavailable/), { timeout: 20_000, interval: 50 });
    expect((await statusOf('through-outage'))?.phase).toBe('Pending');
    await proxy.heal();
    await vi.waitFor(async () => expect((await statusOf('through-outage'))?.phase).toBe('Succeeded'), { timeout: 30_000, interval: 50 });
  }, 60_000);
});
