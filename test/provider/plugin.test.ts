import { existsSync, readFileSync } from 'node:fs';
import providerPb from '@pulumi/pulumi/proto/provider_pb.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedRuntime } from '../support/embedded-runtime.js';
import { FakeEngine } from '../support/fake-engine.js';
import { EngineHarness, secret, UNKNOWN_SENTINEL, urnOf } from '../support/engine-harness.js';
import { runtimeApi } from '../support/runtime-api.js';

const LIMIT = 'argosync:index:SemaphoreLimit';
const { version: VERSION } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const { DIFF_SOME } = providerPb.DiffResponse.DiffChanges;

describe('pulumi-resource-argosync driven as the engine drives it', () => {
  let engine: EngineHarness;
  const runtime = embeddedRuntime();
  const api = runtimeApi(runtime);
  beforeAll(async () => {
    engine = await EngineHarness.launch();
    await engine.configure({ endpoint: runtime().url, token: secret(runtime().token!), insecureSkipVerify: true, namespace: 'team-a' });
  });
  afterAll(() => engine?.close());

  it("announces package.json's version, as the plugin's and the schema's", async () => {
    expect(await engine.pluginVersion()).toBe(VERSION);
    expect(JSON.parse(await engine.schema())).toMatchObject({ name: 'argosync', version: VERSION, resources: { [LIMIT]: expect.any(Object) } });
  });

  it('previews without side effects, creates, and finds nothing to do the second time', async () => {
    const preview = await engine.up(LIMIT, 'gpu', { key: 'gpu', limit: UNKNOWN_SENTINEL }, { preview: true });
    expect(preview).toMatchObject({ operation: 'create', entry: { id: '', outputs: { key: 'gpu', limit: UNKNOWN_SENTINEL } } });
    expect((await api('GET', '/sync/team-a/gpu?type=1')).status).toBe(404);

    const created = await engine.up(LIMIT, 'gpu', { key: 'gpu', limit: 2 });
    expect(created.entry).toMatchObject({ id: 'database/team-a/gpu', outputs: { namespace: 'team-a', key: 'gpu', type: 'database', limit: 2, lockName: 'team-a/Database/gpu', holders: 0, waiting: 0 } });
    expect((await api('GET', '/sync/team-a/gpu?type=1')).json).toMatchObject({ limit: 2 });
    expect((await engine.up(LIMIT, 'gpu', { key: 'gpu', limit: 2 })).operation).toBe('same');
  });

  it('updates the limit in place with a detailed diff, and replaces on a new key', async () => {
    const urn = urnOf(LIMIT, 'gpu');
    const state = engine.state.get(urn)!;
    expect(await engine.diff(urn, state.id, state.outputs, { ...state.inputs, limit: 3 }, state.inputs)).toEqual({
      changes: DIFF_SOME,
      replaces: [],
      diffs: ['limit'],
      detailed: { limit: providerPb.PropertyDiff.Kind.UPDATE },
      // The same id: were it replaced (`pulumi up --replace`), the old limit has to go first.
      deleteBeforeReplace: true,
    });
    expect((await engine.up(LIMIT, 'gpu', { key: 'gpu', limit: 3 })).operation).toBe('update');
    expect((await api('GET', '/sync/team-a/gpu?type=1')).json).toMatchObject({ limit: 3 });

    const replaced = await engine.up(LIMIT, 'gpu', { key: 'gpu-2', limit: 3 });
    expect(replaced).toMatchObject({ operation: 'replace', entry: { id: 'database/team-a/gpu-2' } });
    expect((await api('GET', '/sync/team-a/gpu?type=1')).status).toBe(404);
  });

  it('keeps a ConfigMap limit and its ConfigMap when the limit changes', async () => {
    await api('POST', '/sync/team-a', { cmName: 'shared', key: 'other', limit: 9 });
    await engine.up(LIMIT, 'cm', { key: 'cpu', type: 'configmap', configMapName: 'shared', limit: 1 });
    expect((await engine.up(LIMIT, 'cm', { key: 'cpu', type: 'configmap', configMapName: 'shared', limit: 5 })).operation).toBe('update');
    expect((await api('GET', '/sync/team-a/other?cmName=shared')).json).toMatchObject({ limit: 9 });
    expect((await api('GET', '/sync/team-a/cpu?cmName=shared')).json).toMatchObject({ limit: 5 });
  });

  it('shows an out-of-band change as drift on refresh, and drops a limit deleted out of band', async () => {
    await api('PUT', '/sync/team-a/cpu', { cmName: 'shared', limit: 7 });
    const refreshed = await engine.refresh(LIMIT, 'cm');
    expect(refreshed).toMatchObject({ gone: false, drifted: true, entry: { inputs: { limit: 7 }, outputs: { limit: 7 } } });
    expect((await engine.refresh(LIMIT, 'cm')).drifted).toBe(false);

    await api('DELETE', '/sync/team-a/gpu-2?type=DATABASE');
    expect(await engine.refresh(LIMIT, 'gpu')).toEqual({ gone: true, drifted: true });
    expect(engine.state.has(urnOf(LIMIT, 'gpu'))).toBe(false);
  });

  it('imports by id, giving inputs that make no diff against the equivalent program', async () => {
    await api('POST', '/sync/team-b', { type: 1, key: 'imported', limit: 4 });
    const imported = await engine.import(LIMIT, 'imported', 'database/team-b/imported');
    expect(imported.inputs).toEqual({ namespace: 'team-b', key: 'imported', type: 'database', limit: 4 });
    expect((await engine.up(LIMIT, 'imported', { namespace: 'team-b', key: 'imported', limit: 4 })).operation).toBe('same');
  });

  it('rejects bad input in Check with the property and reason, before anything changes', async () => {
    const urn = urnOf(LIMIT, 'bad');
    expect((await engine.check(urn, { key: 'k', limit: 0 })).failures).toEqual([{ property: 'limit', reason: 'must be a whole number of at least 1, got 0' }]);
    expect((await engine.check(urn, { key: 'k', limit: 1, type: 'configmap' })).failures).toEqual([{ property: 'configMapName', reason: 'is required when type is "configmap"' }]);
    expect((await engine.check(urn, { key: 'k', limit: 1, type: 'queue' })).failures.map((failure) => failure.property)).toEqual(['type']);
  });

  it('says how to import a limit that already exists', async () => {
    await api('POST', '/sync/team-a', { type: 1, key: 'taken', limit: 1 });
    await expect(engine.up(LIMIT, 'taken', { key: 'taken', limit: 2 })).rejects.toThrow(
      'sync limit database/team-a/taken already exists; adopt it with: pulumi import argosync:index:SemaphoreLimit taken database/team-a/taken',
    );
  });

  it('destroys everything, and destroying what is already gone succeeds', async () => {
    const ids = [...engine.state.values()].map((entry) => entry.id);
    await api('DELETE', '/sync/team-b/imported?type=DATABASE');
    await engine.destroy();
    expect(engine.state.size).toBe(0);
    for (const id of ids) expect(id).toMatch(/^(database|configmap)\//);
    expect((await api('GET', '/sync/team-a/cpu?cmName=shared')).status).toBe(404);
  });

  it("reads its configuration from older engines' variables, and fails with the server's message on a wrong token", async () => {
    const other = await EngineHarness.launch();
    try {
      await other.configure({}, { 'argosync:config:endpoint': runtime().url, 'argosync:config:token': 'wrong-token', 'argosync:config:insecureSkipVerify': 'true' });
      await expect(other.up(LIMIT, 'x', { key: 'x', limit: 1 })).rejects.toThrow(/token not valid/);
    } finally {
      await other.close();
    }
  });
});

const BUILT_PLUGIN = new URL('../../dist/provider/main.js', import.meta.url);
const NOT_BUILT = existsSync(BUILT_PLUGIN) ? undefined : 'dist/provider/main.js is missing (run npm run build)';
if (NOT_BUILT) console.warn(`skipping the PulumiPlugin.yaml launch test: ${NOT_BUILT}`);

describe.skipIf(NOT_BUILT !== undefined)('pulumi-resource-argosync started through PulumiPlugin.yaml, as the Node.js language host does', () => {
  it('prints only its port and serves the same plugin, Construct included', async () => {
    const monitor = await FakeEngine.start();
    const engine = await EngineHarness.launch({}, 'PulumiPlugin.yaml', monitor.address);
    try {
      expect(await engine.pluginVersion()).toBe(VERSION);
      expect(JSON.parse(await engine.schema())).toMatchObject({ name: 'argosync' });
      const { state } = await engine.construct(monitor, 'argosync:index:Runtime', 'team', { image: 'registry.example/argosync:0.1.0' });
      expect(state).toEqual({ namespace: 'argosync', serviceName: 'team-server', endpoint: 'https://team-server.argosync.svc:2746/' });
    } finally {
      await engine.close();
      monitor.close();
    }
  });
});
