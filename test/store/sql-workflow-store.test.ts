import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { Workflow } from '../../runtime/controller/workflows/workflow.js';
import { ConflictError } from '../../runtime/errors.js';
import { CHANGE_POLL_MS } from '../../runtime/store/change-channel.js';
import { migrateArgosyncSchema } from '../../runtime/store/migrations/argosync-migrations.js';
import { SqlWorkflowStore } from '../../runtime/store/sql-workflow-store.js';
import type { NewWorkflow, WorkflowEvent } from '../../runtime/store/workflow-store.js';
import { createTestDatabase, describeEachDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';

const manifest = (metadata: NewWorkflow['metadata']): NewWorkflow => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Workflow',
  metadata,
  spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox' } }] },
});

describeEachDatabase(DIALECTS)('the SQL workflow store on %s', (driver) => {
  let database: TestDatabase;
  let store: SqlWorkflowStore;
  beforeEach(async () => {
    database = await createTestDatabase(driver);
    const sqlDatabase = await database.open();
    await migrateArgosyncSchema(sqlDatabase);
    store = new SqlWorkflowStore(sqlDatabase);
  });
  afterEach(async () => {
    await store.close();
    await database.drop();
  });

  it('assigns uid, creation time and resourceVersion, generates names, and refuses a taken name', async () => {
    const created = await store.create(manifest({ name: 'wf', namespace: 'team-a', labels: { team: 'a' } }));
    expect(created.metadata).toMatchObject({ name: 'wf', namespace: 'team-a', uid: expect.stringMatching(/^[0-9a-f-]{36}$/), resourceVersion: '1' });
    expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(await store.get('team-a', 'wf')).toEqual(created);
    await expect(store.create(manifest({ name: 'wf', namespace: 'team-a' }))).rejects.toThrow('workflows.argoproj.io "wf" already exists');
    const generated = await store.create(manifest({ generateName: 'run-', namespace: 'team-a' }));
    expect(generated.metadata.name).toMatch(/^run-[a-z0-9]{5}$/);
    expect(await store.get('team-b', 'wf')).toBeUndefined();
  });

  it('updates only from the stored resourceVersion, and says so in Kubernetes words otherwise', async () => {
    const created = await store.create(manifest({ name: 'wf', namespace: 'team-a' }));
    const running: Workflow = { ...created, status: { phase: 'Running' } };
    const updated = await store.update(running);
    expect(updated.metadata.resourceVersion).toBe('2');
    const stale = store.update({ ...created, spec: { ...created.spec, shutdown: 'Terminate' } });
    await expect(stale).rejects.toThrow(ConflictError);
    await expect(stale).rejects.toThrow('Operation cannot be fulfilled on workflows.argoproj.io "wf": the object has been modified; please apply your changes to the latest version and try again');
    expect((await store.get('team-a', 'wf'))?.status?.phase).toBe('Running');
    await store.delete('team-a', 'wf');
    await expect(store.update(updated)).rejects.toThrow('workflows.argoproj.io "wf" not found');
  });

  it('lists newest first by namespace, label selector, unfinished, and in pages', async () => {
    for (const [index, name] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      const created = await store.create(manifest({ name, namespace: index < 4 ? 'team-a' : 'team-b', labels: { parity: index % 2 === 0 ? 'even' : 'odd' } }));
      if (name === 'b') await store.update({ ...created, status: { phase: 'Succeeded' } });
    }
    expect((await store.list({ namespace: 'team-a' })).items).toHaveLength(4);
    expect((await store.list({ labelSelector: 'parity=even' })).items.map((workflow) => workflow.metadata.name).sort()).toEqual(['a', 'c', 'e']);
    expect((await store.list({ labelSelector: 'parity in (odd),parity!=even' })).items.map((workflow) => workflow.metadata.name).sort()).toEqual(['b', 'd']);
    expect((await store.list({ unfinished: true })).items.map((workflow) => workflow.metadata.name).sort()).toEqual(['a', 'c', 'd', 'e']);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await store.list({ limit: 2, ...(token ? { continue: token } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((workflow) => workflow.metadata.name));
      token = page.continue;
    } while (token);
    expect(seen.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    await expect(store.list({ continue: 'garbage' })).rejects.toThrow('invalid listOptions.continue');
    await expect(store.list({ labelSelector: 'a in b' })).rejects.toThrow('invalid label selector');
  });

  it('tells watchers about every change, and deletes returning what was deleted', async () => {
    const events: WorkflowEvent[] = [];
    const stop = await store.watch((event) => events.push(event));
    const created = await store.create(manifest({ name: 'wf', namespace: 'team-a' }));
    await store.update({ ...created, status: { phase: 'Running' } });
    expect((await store.delete('team-a', 'wf'))?.metadata.name).toBe('wf');
    expect(await store.delete('team-a', 'wf')).toBeUndefined();
    stop();
    expect(events).toEqual([
      { type: 'ADDED', namespace: 'team-a', name: 'wf' },
      { type: 'MODIFIED', namespace: 'team-a', name: 'wf' },
      { type: 'DELETED', namespace: 'team-a', name: 'wf' },
    ]);
  });
});

describeEachDatabase(['postgresql', 'mysql'])('the SQL workflow store across processes on %s', (driver) => {
  it('lets a second store instance hear writes (LISTEN/NOTIFY, or polled announcements on MySQL), until it closes', async () => {
    const database = await createTestDatabase(driver);
    const writerDatabase = await database.open();
    await migrateArgosyncSchema(writerDatabase);
    const writer = new SqlWorkflowStore(writerDatabase);
    const reader = new SqlWorkflowStore(await database.open());
    const heard: WorkflowEvent[] = [];
    const writerHeard: WorkflowEvent[] = [];
    await reader.watch((event) => heard.push(event));
    await writer.watch((event) => writerHeard.push(event));
    await writer.create(manifest({ name: 'remote', namespace: 'team-a' }));
    await vi.waitFor(() => expect(heard).toEqual([{ type: 'ADDED', namespace: 'team-a', name: 'remote' }]), { timeout: 5000, interval: 20 });
    // The writer hears its own change once, at once, and not again from the database.
    expect(writerHeard).toEqual(heard);

    await reader.close();
    await writer.delete('team-a', 'remote');
    const later = await writer.create(manifest({ name: 'after-close', namespace: 'team-a' }));
    await vi.waitFor(() => expect(writerHeard.at(-1)).toMatchObject({ type: 'ADDED', name: later.metadata.name }));
    // No event can be awaited for a change that must not arrive: give the closed reader three polling rounds.
    await new Promise((resolve) => setTimeout(resolve, CHANGE_POLL_MS * 3));
    expect(heard).toHaveLength(1);
    expect(writerHeard).toHaveLength(3);
    await writer.close();
    await database.drop();
  });
});
