import providerPb from '@pulumi/pulumi/proto/provider_pb.js';
import enginePb from '@pulumi/pulumi/proto/engine_pb.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedRuntime } from '../support/embedded-runtime.js';
import { EngineHarness, secret, UNKNOWN_SENTINEL } from '../support/engine-harness.js';
import { FakeEngine } from '../support/fake-engine.js';
import { runtimeApi } from '../support/runtime-api.js';

const LIMIT = 'argosync:index:SemaphoreLimit';
const { UPDATE_REPLACE, UPDATE } = providerPb.PropertyDiff.Kind;

describe('provider configuration, replacement and adoption', () => {
  const runtime = embeddedRuntime();
  const api = runtimeApi(runtime);
  let monitor: FakeEngine;
  let engine: EngineHarness;
  const config = () => ({ endpoint: runtime().url, token: secret(runtime().token!), insecureSkipVerify: true, namespace: 'team-c' });
  beforeAll(async () => {
    // The engine's address is where the plugin sends its warnings (the engine's log).
    monitor = await FakeEngine.start();
    engine = await EngineHarness.launch({}, 'executable', monitor.address);
  });
  afterAll(async () => {
    await engine?.close();
    monitor?.close();
  });

  it('CheckConfig names the property of a bad endpoint, a timeout of 0 or less and an unknown key', async () => {
    expect((await engine.checkConfig({ endpoint: 'argosync.example:2746', requestTimeoutSeconds: 0, endpont: 'https://x' })).failures).toEqual([
      { property: 'endpont', reason: expect.stringContaining('argosync:endpont is not a configuration key of the argosync provider') },
      { property: 'endpoint', reason: 'must be an http or https URL such as https://argosync.example:2746, got "argosync.example:2746"' },
      { property: 'requestTimeoutSeconds', reason: 'must be a number of seconds greater than 0, got 0' },
    ]);
    expect((await engine.checkConfig({ requestTimeoutSeconds: '-5', insecureSkipVerify: 'maybe' })).failures.map((failure) => failure.property)).toEqual(['requestTimeoutSeconds', 'insecureSkipVerify']);
    // Stack config arrives as strings from older engines; the engine adds `version`; unknowns wait for up.
    const good = { ...config(), requestTimeoutSeconds: '10', adoptExisting: 'false', version: '1.2.3', caCertificate: UNKNOWN_SENTINEL };
    expect(await engine.checkConfig(good)).toEqual({ inputs: good, failures: [] });
  });

  it('DiffConfig replaces the provider when the endpoint changes, and updates it otherwise', async () => {
    const before = config();
    expect(await engine.diffConfig(before, { ...before, endpoint: 'https://other.example:2746' })).toMatchObject({
      changes: providerPb.DiffResponse.DiffChanges.DIFF_SOME,
      replaces: ['endpoint'],
      detailed: { endpoint: UPDATE_REPLACE },
    });
    expect(await engine.diffConfig(before, { ...before, namespace: 'team-d' })).toMatchObject({ replaces: [], diffs: ['namespace'], detailed: { namespace: UPDATE } });
    expect((await engine.diffConfig({ ...before, version: '0.0.1' }, { ...before, version: '0.0.2' })).changes).toBe(providerPb.DiffResponse.DiffChanges.DIFF_NONE);
  });

  it('pulumi up --replace of a limit deletes it first, so the new one does not meet the old one', async () => {
    await engine.configure(config());
    await engine.up(LIMIT, 'gpu', { key: 'gpu', limit: 2 });
    const replaced = await engine.up(LIMIT, 'gpu', { key: 'gpu', limit: 2 }, { replace: true });
    expect(replaced).toMatchObject({ operation: 'replace', deleteBeforeReplace: true, entry: { id: 'database/team-c/gpu', outputs: { limit: 2 } } });
    // A new name is a new id: created before the old one goes, as the engine does by default.
    expect(await engine.up(LIMIT, 'gpu', { key: 'gpu-2', limit: 2 })).toMatchObject({ operation: 'replace', deleteBeforeReplace: false });
    expect((await api('GET', '/sync/team-c/gpu?type=1')).status).toBe(404);
    await engine.destroy();
  });

  it('adoptExisting adopts on create only, and warns in Check before a rename deletes the adopted limit', async () => {
    await api('POST', '/sync/team-c', { type: 1, key: 'legacy', limit: 3 });
    await engine.configure({ ...config(), adoptExisting: true });
    const adopted = await engine.up(LIMIT, 'legacy', { key: 'legacy', limit: 5 });
    expect(adopted).toMatchObject({ operation: 'create', entry: { id: 'database/team-c/legacy', outputs: { limit: 5, adopted: true } } });
    expect((await api('GET', '/sync/team-c/legacy?type=1')).json).toMatchObject({ limit: 5 });
    // Refresh keeps the mark; a limit created by Pulumi has none.
    expect((await engine.refresh(LIMIT, 'legacy')).entry?.outputs).toMatchObject({ adopted: true });
    expect((await engine.up(LIMIT, 'fresh', { key: 'fresh', limit: 1 })).entry?.outputs).not.toHaveProperty('adopted');

    monitor.logs.length = 0;
    await engine.up(LIMIT, 'legacy', { key: 'legacy', limit: 6 });
    expect(monitor.logs).toEqual([]);
    await engine.up(LIMIT, 'legacy', { key: 'legacy-renamed', limit: 6 }, { preview: true });
    expect(monitor.logs).toEqual([
      {
        severity: enginePb.LogSeverity.WARNING,
        message:
          'sync limit database/team-c/legacy was adopted (it existed before Pulumi); this change replaces it with database/team-c/legacy-renamed and deletes database/team-c/legacy. To keep it, set the retainOnDelete resource option before applying, or change it back.',
      },
    ]);
    await engine.destroy();
  });

  it('getSemaphoreLimit reads a limit made outside Pulumi, and names the one that does not exist', async () => {
    await engine.configure(config());
    await api('POST', '/sync/team-c', { cmName: 'shared', key: 'cpu', limit: 4 });
    expect(await engine.invoke('argosync:index:getSemaphoreLimit', { key: 'cpu', type: 'configmap', configMapName: 'shared' })).toEqual({
      outputs: { id: 'configmap/team-c/shared/cpu', namespace: 'team-c', key: 'cpu', type: 'configmap', configMapName: 'shared', limit: 4, lockName: 'team-c/ConfigMap/shared/cpu', holders: 0, waiting: 0 },
      failures: [],
    });
    await expect(engine.invoke('argosync:index:getSemaphoreLimit', { namespace: 'team-x', key: 'nope' })).rejects.toThrow(
      'getSemaphoreLimit: sync limit database/team-x/nope does not exist (namespace team-x, key nope)',
    );
    expect((await engine.invoke('argosync:index:getSemaphoreLimit', { type: 'configmap' })).failures.map((failure) => failure.property)).toEqual(['key', 'configMapName']);
  });

  it('getSemaphoreLimits lists a namespace, and getControllers the controllers on the sync database', async () => {
    await api('POST', '/sync/team-e', { type: 1, key: 'gpu', limit: 2 });
    await api('POST', '/sync/team-e', { cmName: 'limits', key: 'batch', limit: 3 });
    const { outputs } = await engine.invoke('argosync:index:getSemaphoreLimits', { namespace: 'team-e' });
    expect(outputs).toEqual({
      namespace: 'team-e',
      limits: expect.arrayContaining([
        { namespace: 'team-e', key: 'gpu', type: 'database', limit: 2, lockName: 'team-e/Database/gpu', holders: 0, waiting: 0 },
        { namespace: 'team-e', key: 'batch', type: 'configmap', configMapName: 'limits', limit: 3, lockName: 'team-e/ConfigMap/limits/batch', holders: 0, waiting: 0 },
      ]),
    });
    expect((outputs.limits as unknown[]).length).toBe(2);
    for (const namespace of ['Team-E', '../team-e', 'team-e/gpu', '', 5]) {
      expect((await engine.invoke('argosync:index:getSemaphoreLimits', { namespace })).failures, JSON.stringify(namespace)).toEqual([
        { property: 'namespace', reason: expect.stringMatching(typeof namespace === 'string' ? /is not a Kubernetes namespace name/ : /must be a string, got 5/) },
      ]);
    }
    // The embedded runtime's controller heartbeats on its state store, which serves as the sync database.
    const controllers = (await engine.invoke('argosync:index:getControllers', {})).outputs.controllers as { name: string; lastHeartbeat?: string }[];
    expect(controllers).toEqual((((await api('GET', '/config/synchronization')).json.controllers as { name: string; lastHeartbeat: string }[]) ?? []).map(({ name, lastHeartbeat }) => ({ name, ...(lastHeartbeat ? { lastHeartbeat } : {}) })));
    expect(controllers.length).toBeGreaterThan(0);
  });
});
