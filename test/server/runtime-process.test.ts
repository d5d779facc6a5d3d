import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime, type RunningRuntime } from '../../runtime/runtime-process.js';
import { insecureAgent, runtimeApi } from '../support/runtime-api.js';


describe('the embedded runtime', () => {
  let home: string;
  let runtime: RunningRuntime;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'argosync-embedded-'));
    runtime = await startRuntime({ home }, { port: 0, logFormat: 'json' }, () => undefined);
  });
  afterAll(async () => {
    await runtime.stop();
    await rm(home, { recursive: true, force: true });
  });

  const api = runtimeApi(() => runtime);

  it('streams a change event to the UI when a limit is written', async () => {
    const response = await request(`${runtime.url}api/v1/sync-events?namespace=team-events`, {
      dispatcher: insecureAgent,
      headers: { authorization: `Bearer ${runtime.token}`, accept: 'text/event-stream' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream');
    expect(response.headers['x-ratelimit-limit']).toBeDefined();
    const chunks = response.body[Symbol.asyncIterator]();
    expect(String((await chunks.next()).value)).toBe(': connected\n\n');
    expect((await api('POST', '/sync/team-events', { type: 1, key: 'k', limit: 1 })).status).toBe(200);
    expect(String((await chunks.next()).value)).toBe('event: change\ndata: {"namespace":"team-events","lock":"team-events/Database/k","reason":"limit"}\n\n');
    response.body.destroy();
  });

  it.each([
    ['database', { type: 1, key: 'gpu', limit: 1 }, { database: { key: 'gpu' } }],
    ['ConfigMap', { cmName: 'limits', key: 'gpu', limit: 1 }, { configMapKeyRef: { name: 'limits', key: 'gpu' } }],
  ])('admits a workflow waiting for a missing %s limit as soon as the API creates it, and shows it as a holder', async (_kind, body, semaphore) => {
    const namespace = `team-${_kind.toLowerCase()}`;
    const { manager } = runtime.engine!;
    const request = { namespace, workflowName: 'wf', priority: 0, creationTime: Date.UTC(2026, 0, 1), synchronization: { semaphores: [semaphore] } };
    const waiting = await manager.tryAcquire(request);
    expect(waiting).toMatchObject({ acquired: false, message: expect.stringContaining('argosync sync create gpu') });

    const woken = new Promise<void>((resolve) => {
      const stop = runtime.onWake((workflowKey) => {
        if (workflowKey !== `${namespace}/wf`) return;
        stop();
        resolve();
      });
    });
    expect((await api('POST', `/sync/${namespace}`, body)).status).toBe(200);
    await woken;
    expect((await manager.tryAcquire(request)).acquired).toBe(true);
    const status = await api('GET', `/sync/${namespace}/gpu/status?type=${'type' in body ? 1 : 0}&cmName=limits`);
    expect(status.json).toMatchObject({ key: 'gpu', limit: 1, holders: [{ key: `${namespace}/wf`, token: 1 }], waiting: [] });
  });
});
