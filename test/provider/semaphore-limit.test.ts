import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../runtime/client/api-client.js';
import { startRuntime, type RunningRuntime } from '../../runtime/runtime-process.js';
import { UNKNOWN } from '../../provider/resource-handler.js';
import { SemaphoreLimitHandler, type SemaphoreLimitInputs } from '../../provider/resources/semaphore-limit.js';
import { runtimeApi } from '../support/runtime-api.js';

describe('SemaphoreLimit against a running runtime', () => {
  let home: string;
  let runtime: RunningRuntime;
  let handler: SemaphoreLimitHandler;
  let adopting: SemaphoreLimitHandler;
  const api = runtimeApi(() => runtime);

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'argosync-provider-'));
    runtime = await startRuntime({ home }, { port: 0, logFormat: 'json' }, () => undefined);
    const client = new ApiClient({ server: runtime.url, token: runtime.token!, insecureSkipVerify: true });
    handler = new SemaphoreLimitHandler(client, { defaultNamespace: 'team-a', adoptExisting: false });
    adopting = new SemaphoreLimitHandler(client, { defaultNamespace: 'team-a', adoptExisting: true });
  });
  afterAll(async () => {
    await runtime.stop();
    await rm(home, { recursive: true, force: true });
  });

  const checked = (news: Record<string, unknown>): SemaphoreLimitInputs => {
    const result = handler.check(news);
    expect(result.failures).toEqual([]);
    return result.inputs;
  };

  it('serves the 16 parallel reads of a refresh through one cancellable client without a listener-leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    const client = new ApiClient({ server: runtime.url, token: runtime.token!, insecureSkipVerify: true, signal: new AbortController().signal });
    try {
      await Promise.all(Array.from({ length: 16 }, () => client.send('GET', '/api/v1/version')));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
      await client.close();
    }
    expect(warnings).toEqual([]);
  });

  it('rejects bad input before anything changes, with the property and the reason', () => {
    const failures = (news: Record<string, unknown>) => handler.check(news).failures.map((failure) => failure.property);
    expect(handler.check({ key: 'gpu', limit: -1 }).failures).toEqual([{ property: 'limit', reason: 'must be a whole number of at least 1, got -1' }]);
    expect(failures({ key: 'gpu', limit: 0 })).toEqual(['limit']);
    expect(failures({ key: 'gpu', limit: 1.5 })).toEqual(['limit']);
    expect(failures({ key: 'gpu', limit: '3' })).toEqual(['limit']);
    expect(failures({ key: 'gpu', limit: 1, namespace: 'Team_A' })).toEqual(['namespace']);
    expect(failures({ key: 'a/b', limit: 1, type: 'configmap', configMapName: 'limits' })).toEqual(['key']);
    expect(handler.check({ key: 'gpu', limit: 1, type: 'configmap' }).failures).toEqual([{ property: 'configMapName', reason: 'is required when type is "configmap"' }]);
    expect(failures({ key: 'gpu', limit: 1, type: 'configmap', configMapName: 'Bad_Name' })).toEqual(['configMapName']);
    expect(handler.check({ key: 'gpu', limit: 1, type: 'redis' }).failures).toEqual([{ property: 'type', reason: 'must be "configmap" or "database", got "redis"' }]);
    expect(failures({ limit: 1 })).toEqual(['key']);
  });

  it('tolerates values not known yet during preview, and applies defaults', () => {
    expect(handler.check({ key: UNKNOWN, limit: UNKNOWN, namespace: UNKNOWN }).failures).toEqual([]);
    expect(checked({ key: 'gpu', limit: 2 })).toEqual({ namespace: 'team-a', key: 'gpu', type: 'database', limit: 2 });
  });

  it('updates the limit in place and replaces on identity changes', () => {
    const base = checked({ key: 'gpu', limit: 2 });
    expect(handler.diff(base, { ...base })).toEqual({ changes: false, diffs: [], replaces: [] });
    expect(handler.diff(base, { ...base, limit: 3 })).toEqual({ changes: true, diffs: ['limit'], replaces: [] });
    expect(handler.diff(base, { ...base, key: 'cpu', limit: 3 })).toEqual({ changes: true, diffs: ['key', 'limit'], replaces: ['key'] });
  });

  it('creates a database limit, refuses to take over an existing one without saying how, and adopts it when told', async () => {
    const inputs = checked({ key: 'gpu', limit: 2 });
    const created = await handler.create('gpu', inputs);
    expect(created).toEqual({ id: 'database/team-a/gpu', outputs: { namespace: 'team-a', key: 'gpu', type: 'database', limit: 2, lockName: 'team-a/Database/gpu', holders: 0, waiting: 0 } });
    await expect(handler.create('gpu-again', inputs)).rejects.toThrow(
      'sync limit database/team-a/gpu already exists; adopt it with: pulumi import argosync:index:SemaphoreLimit gpu-again database/team-a/gpu (or set argosync:adoptExisting)',
    );
    expect((await adopting.create('gpu-again', { ...inputs, limit: 5 })).outputs.limit).toBe(5);
  });

  it('updates a ConfigMap limit in place, keeping the ConfigMap and its other keys', async () => {
    const gpu = checked({ key: 'gpu', limit: 1, type: 'configmap', configMapName: 'limits' });
    const cpu = checked({ key: 'cpu', limit: 8, type: 'configmap', configMapName: 'limits' });
    const created = await handler.create('gpu', gpu);
    expect(created.id).toBe('configmap/team-a/limits/gpu');
    await handler.create('cpu', cpu);
    expect((await handler.update('configmap/team-a/limits/gpu', gpu, { ...gpu, limit: 4 }, created.outputs)).limit).toBe(4);
    expect((await api('GET', '/sync/team-a/cpu?cmName=limits')).json).toMatchObject({ limit: 8 });
    expect((await api('GET', '/sync/team-a/gpu?cmName=limits')).json).toMatchObject({ limit: 4 });
  });

  it('sees drift, live holders, and a limit deleted out of band', async () => {
    const inputs = checked({ key: 'drift', limit: 2 });
    const { id } = await handler.create('drift', inputs);
    await api('PUT', '/sync/team-a/drift', { type: 1, limit: 7 });
    await runtime.engine!.manager.tryAcquire({ namespace: 'team-a', workflowName: 'wf', priority: 0, creationTime: Date.UTC(2026, 0, 1), synchronization: { semaphores: [{ database: { key: 'drift' } }] } });
    const read = await handler.read(id);
    expect(read).toMatchObject({ id, inputs: { limit: 7 }, outputs: { limit: 7, holders: 1, waiting: 0 } });
    expect(handler.diff(read!.inputs, inputs)).toMatchObject({ changes: true, diffs: ['limit'] });
    await api('DELETE', '/sync/team-a/drift?type=DATABASE');
    expect(await handler.read(id)).toBeUndefined();
  });

  it('imports by id alone, giving inputs that check cleanly and match an equivalent program', async () => {
    await api('POST', '/sync/team-b', { cmName: 'shared', key: 'gpu', limit: 3 });
    const imported = await handler.read('configmap/team-b/shared/gpu');
    expect(imported?.inputs).toEqual({ namespace: 'team-b', key: 'gpu', type: 'configmap', configMapName: 'shared', limit: 3 });
    const program = checked({ namespace: 'team-b', key: 'gpu', type: 'configmap', configMapName: 'shared', limit: 3 });
    expect(handler.diff(checked({ ...imported!.inputs }), program).changes).toBe(false);
    await expect(handler.read('bogus/id')).rejects.toThrow('invalid SemaphoreLimit id "bogus/id"');
  });

  it('deletes, and deleting what is already gone succeeds', async () => {
    const { id } = await handler.create('temp', checked({ key: 'temp', limit: 1, type: 'configmap', configMapName: 'temp' }));
    await handler.delete(id);
    expect(await handler.read(id)).toBeUndefined();
    await handler.delete(id);
    await handler.delete('configmap/team-a/never-existed/key');
    await handler.delete('database/team-a/never-existed');
  });
});
