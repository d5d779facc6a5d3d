import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { SqlOffloadRepository } from '../../runtime/controller/offload/offload-repository.js';
import type { SqlDatabase } from '../../runtime/store/sql-database.js';
import { SqlWorkflowStore } from '../../runtime/store/sql-workflow-store.js';
import { createTestDatabase, describeOn, type TestDatabase } from '../support/databases.js';
import { embeddedRuntime, mysqlPersistence } from '../support/embedded-runtime.js';
import { runtimeApi } from '../support/runtime-api.js';

const SHORT_PERIODS = {
  ALWAYS_OFFLOAD_NODE_STATUS: 'true',
  // Argo's default is 5m: a TTL shorter than one status write could collect a version before the workflow points at it.
  OFFLOAD_NODE_STATUS_TTL: '1s',
  WORKFLOW_GC_PERIOD: '200ms',
  ARCHIVED_WORKFLOW_GC_PERIOD: '200ms',
};

describeOn('mysql')('the leader collects old offloaded node versions and archived workflows past archiveTTL (short test periods)', () => {
  let database: TestDatabase;
  let persistence: SqlDatabase;
  const saved = { ...process.env };
  beforeAll(async () => {
    database = await createTestDatabase('mysql');
    persistence = await database.open();
    Object.assign(process.env, SHORT_PERIODS);
  });
  afterAll(async () => {
    process.env = saved;
    await database?.drop();
  });
  const runtime = embeddedRuntime(() => ({ config: { persistence: mysqlPersistence(database, { archive: true, archiveTTL: '2s', nodeStatusOffLoad: true }) } }));
  const api = runtimeApi(runtime);

  it('keeps only the live offload version, archives the finished workflow, then deletes it from the archive after the TTL', async () => {
    const workflow = {
      metadata: { name: 'steps', labels: { team: 'a' } },
      spec: {
        entrypoint: 'main',
        templates: [
          { name: 'main', steps: [[{ name: 'one', template: 'echo' }], [{ name: 'two', template: 'echo' }]] },
          { name: 'echo', container: { image: 'busybox', command: ['echo', 'hello'] } },
        ],
      },
    };
    const created = await api('POST', '/workflows/team-a', { workflow });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const uid = (created.json.metadata as { uid: string }).uid;
    const done = await vi.waitFor(
      async () => {
        const response = await api('GET', '/workflows/team-a/steps');
        expect(response.json).toMatchObject({ status: { phase: 'Succeeded' } });
        return response.json as { status: { finishedAt: string; nodes: Record<string, unknown> } };
      },
      { timeout: 15_000, interval: 50 },
    );
    expect(Object.keys(done.status.nodes)).toHaveLength(5);
    const stored = await new SqlWorkflowStore(runtime().context.stateStore).get('team-a', 'steps');
    const liveVersion = stored?.status?.offloadNodeStatusVersion;
    expect(liveVersion).toMatch(/^fnv:\d+$/);
    expect(stored?.status?.nodes).toBeUndefined();

    const offload = new SqlOffloadRepository(persistence, { tableName: 'argo_workflows', clusterName: 'default' });
    await expect.poll(() => offload.count(uid), { timeout: 10_000, interval: 100 }).toBe(1);
    expect(Object.keys(await offload.get(uid, liveVersion!))).toHaveLength(5);

    const archived = await vi.waitFor(
      async () => {
        const list = await api('GET', '/archived-workflows?listOptions.labelSelector=team%3Da');
        expect(list.json.items).toHaveLength(1);
        return list;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(archived.json.items).toMatchObject([{ metadata: { name: 'steps', uid } }]);
    await vi.waitFor(async () => expect((await api('GET', `/archived-workflows/${uid}`)).status).toBe(404), { timeout: 15_000, interval: 100 });
    // Not before its TTL: finishedAt (second precision, as Argo's) plus archiveTTL.
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(done.status.finishedAt) + 2_000);
    expect((await api('GET', '/workflows/team-a/steps')).status).toBe(200);
  });
});
