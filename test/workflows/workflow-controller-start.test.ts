import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hydrator } from '../../runtime/controller/offload/hydrator.js';
import { LocalExecutor } from '../../runtime/controller/workflows/executors/local-executor.js';
import { WorkflowController } from '../../runtime/controller/workflows/workflow-controller.js';
import { migrateArgosyncSchema } from '../../runtime/store/migrations/argosync-migrations.js';
import { SqlWorkflowStore } from '../../runtime/store/sql-workflow-store.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

describe('a workflow controller starting with unfinished workflows', () => {
  let database: TestDatabase;
  let store: SqlWorkflowStore;
  let root: string;

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    const state = await database.open();
    await migrateArgosyncSchema(state);
    store = new SqlWorkflowStore(state);
    root = await mkdtemp(join(tmpdir(), 'argosync-start-'));
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('says how far re-queueing got, then that it started', async () => {
    for (let index = 0; index < 5; index += 1) {
      await store.create({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Workflow',
        metadata: { name: `w-${index}`, namespace: 'team-a' },
        spec: { entrypoint: 'main', templates: [{ name: 'main', suspend: {} }] },
      });
    }
    const lines: string[] = [];
    const controller = new WorkflowController({
      store,
      executor: new LocalExecutor(root),
      sync: () => undefined,
      codec: () => new Hydrator({ maxWorkflowSize: 1024 * 1024, alwaysOffload: false, compression: 'gzip' }),
      archiving: () => undefined,
      say: (line) => lines.push(line),
      startProgressEvery: 2,
    });
    await controller.start();
    controller.stop();
    expect(lines).toEqual(['re-queued 2 of 5 unfinished workflows', 're-queued 4 of 5 unfinished workflows', 'workflow controller started: 5 unfinished workflows, executor local']);
  });
});
