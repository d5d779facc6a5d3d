import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlWorkflowArchive, unsupportedArchive } from '../../runtime/controller/archive/sql-workflow-archive.js';
import { offloadVersion } from '../../runtime/controller/offload/fnv.js';
import { Hydrator } from '../../runtime/controller/offload/hydrator.js';
import { compressNodes, decompressNodes } from '../../runtime/controller/offload/node-compression.js';
import { SqlOffloadRepository } from '../../runtime/controller/offload/offload-repository.js';
import { collectOffloads } from '../../runtime/controller/garbage-collection.js';
import { migrateArgosyncSchema } from '../../runtime/store/migrations/argosync-migrations.js';
import { SqlWorkflowStore } from '../../runtime/store/sql-workflow-store.js';
import type { WorkflowListOptions } from '../../runtime/store/workflow-store.js';
import { migratePersistenceSchema } from '../../runtime/store/migrations/persistence-migrations.js';
import type { SqlDatabase } from '../../runtime/store/sql-database.js';
import { createTestDatabase, describeEachDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { workflowWithNodes } from '../support/large-workflow.js';

describe('offload versions and compression', () => {
  it("hashes nodes JSON with FNV-1 as Argo does (null → fnv:784127654)", () => {
    expect(offloadVersion('null')).toBe('fnv:784127654');
    expect(offloadVersion('{}')).not.toBe(offloadVersion('{"a":1}'));
  });

  it.each(['gzip', 'brotli'] as const)('round-trips nodes through %s and recognises the algorithm when reading', async (algorithm) => {
    const json = JSON.stringify(workflowWithNodes(50).status!.nodes);
    const compressed = await compressNodes(json, algorithm);
    expect(Buffer.from(compressed, 'base64')[0] === 0x1f).toBe(algorithm === 'gzip');
    expect(await decompressNodes(compressed)).toBe(json);
  });

  it('refuses zstd with what to do', async () => {
    await expect(decompressNodes(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2]).toString('base64'))).rejects.toThrow(/zstd.*WORKFLOW_COMPRESSION_ALGORITHM=gzip/);
  });

  it('compresses a workflow over MAX_WORKFLOW_SIZE, and errors with Argo\'s text when still too large and offload is off', async () => {
    const workflow = workflowWithNodes(200);
    const size = Buffer.byteLength(JSON.stringify(workflow));
    const compressing = new Hydrator({ maxWorkflowSize: size - 1, alwaysOffload: false, compression: 'gzip' });
    const dehydrated = await compressing.dehydrate(workflow);
    expect(dehydrated.status?.nodes).toBeUndefined();
    expect(dehydrated.status?.compressedNodes).toMatch(/^H4sI/);
    expect(await compressing.hydrate(dehydrated)).toEqual(workflow);
    await expect(new Hydrator({ maxWorkflowSize: 200, alwaysOffload: false, compression: 'gzip' }).dehydrate(workflow)).rejects.toThrow(
      /^workflow is longer than maximum allowed size\. compressed size \d+ > maxSize 200$/,
    );
  });
});

describeEachDatabase(DIALECTS)('offload and archive on %s', (driver) => {
  let database: TestDatabase;
  let sqlDatabase: SqlDatabase;
  beforeEach(async () => {
    database = await createTestDatabase(driver);
    sqlDatabase = await database.open();
    await migratePersistenceSchema(sqlDatabase, { tableName: 'argo_workflows' });
  });
  afterEach(() => database.drop());

  it('offloads a 10,000-node workflow to SQL and hydrates it back unchanged', async () => {
    const offload = new SqlOffloadRepository(sqlDatabase, { tableName: 'argo_workflows', clusterName: 'default' });
    const hydrator = new Hydrator({ maxWorkflowSize: 4096, alwaysOffload: false, compression: 'gzip', offload });
    const workflow = workflowWithNodes(10_000);
    const dehydrated = await hydrator.dehydrate(workflow);
    expect(dehydrated.status).not.toHaveProperty('nodes');
    expect(dehydrated.status?.offloadNodeStatusVersion).toBe(offloadVersion(JSON.stringify(workflow.status!.nodes)));
    expect(Buffer.byteLength(JSON.stringify(dehydrated))).toBeLessThan(4096);
    expect(await hydrator.hydrate(dehydrated)).toEqual(workflow);
    // Saving the same nodes again is the same row.
    expect(await hydrator.dehydrate(workflow)).toEqual(dehydrated);
    expect(await offload.count('uid-big')).toBe(1);
  });

  it('collects old offload versions but never the live one', async () => {
    const offload = new SqlOffloadRepository(sqlDatabase, { tableName: 'argo_workflows', clusterName: 'default' });
    const nodes = workflowWithNodes(3).status!.nodes!;
    const old = await offload.save('uid-live', 'team-a', { ...nodes, extra: nodes['big-0']! });
    const live = await offload.save('uid-live', 'team-a', nodes);
    const orphan = await offload.save('uid-gone', 'team-a', nodes);
    await sql`update argo_workflows set updatedat = ${new Date(Date.now() - 3_600_000)}`.execute(sqlDatabase.db);
    const deleted = await offload.collect(new Date(Date.now() - 300_000), async (uid) => (uid === 'uid-live' ? live : undefined));
    expect(deleted).toBe(2);
    await expect(offload.get('uid-live', live)).resolves.toEqual(nodes);
    await expect(offload.get('uid-live', old)).rejects.toThrow(/not found/);
    await expect(offload.get('uid-gone', orphan)).rejects.toThrow(/not found/);
  });

  it('never collects a version saved while the live versions are read, however long the read takes', async () => {
    await migrateArgosyncSchema(sqlDatabase);
    const offload = new SqlOffloadRepository(sqlDatabase, { tableName: 'argo_workflows', clusterName: 'default' });
    const store = new SqlWorkflowStore(sqlDatabase);
    const { status: _status, ...manifest } = workflowWithNodes(2, 'ignored');
    const { uid: _uid, creationTimestamp: _created, resourceVersion: _version, ...metadata } = manifest.metadata;
    const created = await store.create({ ...manifest, metadata });
    const { uid } = created.metadata;
    const nodes = workflowWithNodes(2).status!.nodes!;
    const first = await offload.save(uid, 'team-a', nodes);
    const pointingAtFirst = await store.update({ ...created, status: { phase: 'Running', offloadNodeStatusVersion: first } });
    let now = Date.now();
    let second = '';
    // The controller saves new nodes while the collector lists the workflows, and the listing takes ten minutes.
    const slowStore = {
      list: async (options?: WorkflowListOptions) => {
        second ||= await offload.save(uid, 'team-a', { ...nodes, extra: nodes['big-0']! });
        now += 600_000;
        return store.list(options);
      },
    };
    const gc = { store: slowStore, offload: () => offload, offloadTtlMs: 300_000, clock: { now: () => now } };
    expect(await collectOffloads(gc)).toBe(0);
    await expect(offload.get(uid, second)).resolves.toMatchObject({ extra: { id: 'big-0' } });

    // Once the workflow points at the new version, a later round collects the old one only.
    await store.update({ ...pointingAtFirst, status: { phase: 'Running', offloadNodeStatusVersion: second } });
    expect(await collectOffloads(gc)).toBe(1);
    await expect(offload.get(uid, first)).rejects.toThrow(`offloaded nodes of workflow ${uid} at version ${first} not found in argo_workflows`);
    expect(await offload.count(uid)).toBe(1);
    await store.close();
  });

  it('archives completed workflows with their labels, lists, filters, gets, deletes and expires them', async () => {
    const archive = new SqlWorkflowArchive(sqlDatabase, { clusterName: 'default' });
    const first = workflowWithNodes(2, 'uid-1');
    const second = { ...workflowWithNodes(2, 'uid-2'), metadata: { ...workflowWithNodes(2, 'uid-2').metadata, name: 'other', namespace: 'team-b', labels: { team: 'b' } } };
    await archive.archive(first);
    await archive.archive(first); // archiving twice keeps one row
    await archive.archive(second);
    const all = await archive.list();
    expect(all.items.map((workflow) => workflow.metadata.uid).sort()).toEqual(['uid-1', 'uid-2']);
    expect((await archive.list({ labelSelector: 'team=b' })).items.map((workflow) => workflow.metadata.name)).toEqual(['other']);
    expect((await archive.list({ namespace: 'team-a' })).items).toHaveLength(1);
    const page = await archive.list({ limit: 1 });
    expect(page.items).toHaveLength(1);
    expect((await archive.list({ limit: 1, continue: page.continue! })).items).toHaveLength(1);
    const stored = await archive.get('uid-1');
    expect(stored?.metadata.labels).toEqual({ team: 'a', 'workflows.argoproj.io/workflow-archiving-status': 'Persisted' });
    expect(stored?.status?.nodes).toEqual(first.status!.nodes);
    const labelRows = await sql<{ n: number }>`select count(*) as n from argo_archived_workflows_labels where uid = 'uid-1'`.execute(sqlDatabase.db);
    expect(Number(labelRows.rows[0]!.n)).toBe(2);

    expect(await archive.delete('uid-1')).toBe(true);
    expect(await archive.get('uid-1')).toBeUndefined();
    const orphanLabels = await sql<{ n: number }>`select count(*) as n from argo_archived_workflows_labels where uid = 'uid-1'`.execute(sqlDatabase.db);
    expect(Number(orphanLabels.rows[0]!.n)).toBe(0);

    // uid-2 finished at 00:01 today-ish (2026-11-23); a TTL of a year keeps it, a TTL of a minute does not.
    expect(await archive.collectExpired(365 * 86_400_000)).toBe(0);
    expect(await archive.collectExpired(60_000)).toBe(1);
    expect((await archive.list()).items).toEqual([]);
  });
});

describe('the archive without persistence', () => {
  it("answers as Argo's null archive does", async () => {
    expect(await unsupportedArchive.list()).toEqual({ items: [] });
    await expect(unsupportedArchive.get('x')).rejects.toThrow('getting archived workflows not supported');
    await expect(unsupportedArchive.delete('x')).rejects.toThrow('deleting archived workflows not supported');
  });
});
