import fc from 'fast-check';
import type { FastifyPluginAsync } from 'fastify';
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../runtime/clock.js';
import { hashToken, PolicyFileAuthorizer, policyFilePath } from '../../runtime/server/auth/policy-file-authorizer.js';
import { syncLimitRoutes } from '../../runtime/server/routes/sync-limits.js';
import { ConfigMapLimits } from '../../runtime/server/sync-limits/configmap-limits.js';
import { DatabaseLimits } from '../../runtime/server/sync-limits/database-limits.js';
import { SyncAudit } from '../../runtime/server/sync-limits/sync-audit.js';
import { SyncEvents } from '../../runtime/server/sync-limits/sync-events.js';
import { migrateArgosyncSchema } from '../../runtime/store/migrations/argosync-migrations.js';
import { DEFAULT_SYNC_TABLES } from '../../runtime/store/migrations/sync-migrations.js';
import { SyncStore } from '../../runtime/store/sync/sync-store.js';
import { SqlConfigMapStore } from '../../runtime/store/sql-configmap-store.js';
import { createTestDatabase, describeEachDatabase, DIALECTS, type TestDatabase } from '../support/databases.js';
import { createSyncTestDatabase, type SyncTestDatabase } from '../support/sync-controllers.js';
import { startTestServer, temporaryHome, type TestResponse, type TestServer } from './server-harness.js';

const TOKENS = {
  admin: 'admin-token',
  reader: 'reader-token',
  configMapsOnly: 'configmaps-token',
  deleteWithoutUpdate: 'delete-only-token',
} as const;

describeEachDatabase(DIALECTS)('sync limits API with database limits on %s', (driver) => {
  let database: SyncTestDatabase;
  let server: TestServer;
  let store: SqlConfigMapStore;

  beforeAll(async () => {
    database = await createSyncTestDatabase(driver);
    const handle = database.admin;
    store = database.configMaps;
    const home = await temporaryHome();
    await writeFile(
      policyFilePath(home),
      stringify({
        tokens: [
          { subject: 'admin', sha256: hashToken(TOKENS.admin), rules: [{ verbs: ['*'], resources: ['*'], namespaces: ['*'] }] },
          { subject: 'reader', sha256: hashToken(TOKENS.reader), rules: [{ verbs: ['get', 'list'], resources: ['configmaps', 'workflows'], namespaces: ['argo'] }] },
          { subject: 'cm-only', sha256: hashToken(TOKENS.configMapsOnly), rules: [{ verbs: ['*'], resources: ['configmaps'], namespaces: ['argo'] }] },
          { subject: 'deleter', sha256: hashToken(TOKENS.deleteWithoutUpdate), rules: [{ verbs: ['get', 'delete'], resources: ['configmaps', 'workflows'], namespaces: ['argo'] }] },
        ],
      }),
    );
    const databaseLimits = new DatabaseLimits(new SyncStore(handle, DEFAULT_SYNC_TABLES).limits);
    const routes: FastifyPluginAsync = async (api) => {
      await api.register(syncLimitRoutes, {
        configMapLimits: new ConfigMapLimits(store),
        databaseLimits: () => databaseLimits,
        audit: new SyncAudit(handle, systemClock),
        events: new SyncEvents(),
      });
    };
    server = await startTestServer({ home, authModes: ['client'] }, { authorizer: await PolicyFileAuthorizer.load(policyFilePath(home)), apiRoutes: [routes] });
  });
  afterAll(async () => {
    await server.close();
    await database.drop();
  });

  const call = (method: string, path: string, body?: unknown, token: string = TOKENS.admin): Promise<TestResponse> =>
    server.fetch(`/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const expectError = (response: TestResponse, status: number, code: number, message: string) => {
    expect({ status: response.status, body: response.json() }).toEqual({ status, body: { code, message } });
  };

  it("walks Argo's ConfigMap flow with Argo's status codes and texts", async () => {
    expect((await call('POST', '/sync/argo', { type: 0, cmName: 'test-sync-cm', key: 'test-key', limit: 100 })).json()).toEqual({
      namespace: 'argo',
      cmName: 'test-sync-cm',
      key: 'test-key',
      limit: 100,
    });
    expect((await call('POST', '/sync/argo', { cmName: 'test-sync-cm', key: 'second-key', limit: 5 })).status).toBe(200);
    expect((await store.get('argo', 'test-sync-cm'))?.data).toEqual({ 'test-key': '100', 'second-key': '5' });
    expect((await call('GET', '/sync/argo/test-key?type=CONFIGMAP&cmName=test-sync-cm')).json()).toEqual({ namespace: 'argo', cmName: 'test-sync-cm', key: 'test-key', limit: 100 });
    expect((await call('PUT', '/sync/argo/test-key', { type: 0, cmName: 'test-sync-cm', limit: 200 })).json()).toMatchObject({ limit: 200 });
    expectError(await call('PUT', '/sync/argo/test-key', { cmName: 'test-sync-cm', limit: 0 }), 400, 3, 'limit must be greater than zero');
    expectError(await call('GET', '/sync/argo/nope?type=0&cmName=test-sync-cm'), 404, 5, 'key nope not found in configmap argo/test-sync-cm');
    expectError(await call('POST', '/sync/argo', { cmName: 'test-sync-cm', key: 'test-key', limit: 1 }), 409, 6, 'sync limit cannot be created as it already exists');
    expect((await call('DELETE', '/sync/argo/test-key?type=CONFIGMAP&cmName=test-sync-cm')).json()).toEqual({});
    expectError(await call('GET', '/sync/argo/test-key?cmName=test-sync-cm'), 404, 5, 'key test-key not found in configmap argo/test-sync-cm');
    expect((await store.get('argo', 'test-sync-cm'))?.data).toEqual({ 'second-key': '5' });
    expectError(await call('PUT', '/sync/argo/test-key', { cmName: 'test-sync-cm', limit: 3 }), 404, 5, 'key test-key not found in configmap argo/test-sync-cm - please create it first');
    expectError(await call('GET', '/sync/argo/k?cmName=absent-cm'), 404, 5, 'configmaps "absent-cm" not found');
  });

  it("walks Argo's database flow, with the integer type on the wire and names accepted on input", async () => {
    expect((await call('POST', '/sync/argo', { type: 1, key: 'test-sync-db', limit: 100 })).json()).toEqual({ type: 1, namespace: 'argo', key: 'test-sync-db', limit: 100 });
    expectError(await call('POST', '/sync/argo', { type: 'DATABASE', key: 'test-sync-db', limit: 7 }), 409, 6, 'Database sync limit already exists in namespace "argo".');
    expect((await call('GET', '/sync/argo/test-sync-db?type=DATABASE')).json()).toEqual({ type: 1, namespace: 'argo', key: 'test-sync-db', limit: 100 });
    expect((await call('GET', '/sync/argo/test-sync-db?type=1')).json()).toMatchObject({ limit: 100 });
    expect((await call('PUT', '/sync/argo/test-sync-db', { type: 1, limit: 100 })).json()).toMatchObject({ limit: 100 });
    expect((await call('PUT', '/sync/argo/test-sync-db', { type: 'DATABASE', limit: 3 })).json()).toMatchObject({ limit: 3 });
    expect((await call('DELETE', '/sync/argo/test-sync-db?type=DATABASE')).json()).toEqual({});
    expectError(await call('GET', '/sync/argo/test-sync-db?type=DATABASE'), 404, 5, 'Database sync limit not found in namespace "argo".');
    expectError(await call('PUT', '/sync/argo/test-sync-db', { type: 1, limit: 3 }), 404, 5, 'Database sync limit not found in namespace "argo".');
    expect((await call('DELETE', '/sync/argo/test-sync-db?type=DATABASE')).status).toBe(200);
  });

  it('answers 401 on every route without a valid token', async () => {
    for (const [method, path] of [
      ['POST', '/sync/argo'],
      ['GET', '/sync/argo/k?cmName=c'],
      ['PUT', '/sync/argo/k'],
      ['DELETE', '/sync/argo/k?cmName=c'],
      ['GET', '/sync/argo'],
      ['GET', '/sync/argo/k/status?cmName=c'],
      ['GET', '/sync-audit?namespace=argo'],
      ['GET', '/sync-events?namespace=argo'],
    ] as const) {
      const response = await call(method, path, method === 'POST' || method === 'PUT' ? { cmName: 'c', key: 'k', limit: 1 } : undefined, 'wrong-token');
      expect(response.status, `${method} ${path}`).toBe(401);
    }
  });

  it("authorizes ConfigMap limits on configmaps (delete needs update) and database limits on workflows, with Argo's 403 texts", async () => {
    expectError(await call('POST', '/sync/argo', { cmName: 'c', key: 'k', limit: 1 }, TOKENS.reader), 403, 7, 'Permission denied, you are not allowed to create configmaps in namespace "argo".');
    expectError(await call('POST', '/sync/other', { cmName: 'c', key: 'k', limit: 1 }, TOKENS.configMapsOnly), 403, 7, 'Permission denied, you are not allowed to create configmaps in namespace "other".');
    expectError(await call('POST', '/sync/argo', { type: 1, key: 'k', limit: 1 }, TOKENS.configMapsOnly), 403, 7, 'Permission denied, you are not allowed to create database sync limit in namespace "argo".');
    expect((await call('POST', '/sync/argo', { cmName: 'authz', key: 'k', limit: 1 }, TOKENS.configMapsOnly)).status).toBe(200);
    expectError(await call('DELETE', '/sync/argo/k?cmName=authz', undefined, TOKENS.deleteWithoutUpdate), 403, 7, 'Permission denied, you are not allowed to update configmaps in namespace "argo".');
    expect((await call('GET', '/sync/argo/k?cmName=authz', undefined, TOKENS.reader)).status).toBe(200);
    expectError(await call('PUT', '/sync/argo/k', { type: 1, limit: 2 }, TOKENS.reader), 403, 7, 'Permission denied, you are not allowed to update database sync limit in namespace "argo".');
  });

  it('refuses a non-integer ConfigMap value with Argo\'s text', async () => {
    await store.create({ namespace: 'argo', name: 'handmade', data: { gpu: 'two' } });
    expectError(await call('GET', '/sync/argo/gpu?cmName=handmade'), 400, 3, 'invalid limit format for key gpu in configmap argo/handmade');
  });

  it('audits a ConfigMap value that is not an integer as it was, when it is updated or deleted (never NaN)', async () => {
    await store.create({ namespace: 'handmade', name: 'limits', data: { gpu: 'two', fpga: '2.5', tpu: 'x'.repeat(100) } });
    expect((await call('DELETE', '/sync/handmade/gpu?cmName=limits')).status).toBe(200);
    expect((await call('PUT', '/sync/handmade/fpga', { cmName: 'limits', limit: 3 })).status).toBe(200);
    expect((await call('DELETE', '/sync/handmade/tpu?cmName=limits')).status).toBe(200);
    const audit = (await call('GET', '/sync-audit?namespace=handmade')).json() as { items: { action: string; limit: string; oldValue?: unknown; newValue?: unknown }[] };
    expect(audit.items.map(({ action, limit, oldValue, newValue }) => ({ action, limit, oldValue, newValue }))).toEqual([
      // The audit column holds 64 characters: a longer value is cut, and says so.
      { action: 'delete', limit: 'ConfigMap/limits/tpu', oldValue: `${'x'.repeat(63)}…`, newValue: undefined },
      { action: 'update', limit: 'ConfigMap/limits/fpga', oldValue: '2.5', newValue: 3 },
      { action: 'delete', limit: 'ConfigMap/limits/gpu', oldValue: 'two', newValue: undefined },
    ]);
  });

  it('lists the limits of a namespace and records every change in the audit', async () => {
    await call('POST', '/sync/listing', { cmName: 'limits', key: 'gpu', limit: 2 });
    await call('POST', '/sync/listing', { type: 1, key: 'db-key', limit: 4 });
    await call('PUT', '/sync/listing/gpu', { cmName: 'limits', limit: 3 });
    const list = (await call('GET', '/sync/listing')).json() as { items: unknown[] };
    expect(list.items).toEqual([
      { namespace: 'listing', cmName: 'limits', key: 'gpu', limit: 3, holders: [], waiting: [] },
      { type: 1, namespace: 'listing', key: 'db-key', limit: 4, holders: [], waiting: [] },
    ]);
    const audit = (await call('GET', '/sync-audit?namespace=listing')).json() as { items: { action: string; limit: string; oldValue?: number; newValue?: number; actor: string }[] };
    expect(audit.items.map(({ action, limit, oldValue, newValue, actor }) => ({ action, limit, oldValue, newValue, actor }))).toEqual([
      { action: 'update', limit: 'ConfigMap/limits/gpu', oldValue: 2, newValue: 3, actor: 'admin' },
      { action: 'create', limit: 'Database/db-key', oldValue: undefined, newValue: 4, actor: 'admin' },
      { action: 'create', limit: 'ConfigMap/limits/gpu', oldValue: undefined, newValue: 2, actor: 'admin' },
    ]);
  });

  it('stores injection strings in database keys verbatim and harmlessly', async () => {
    const key = "x'); drop table sync_limit; --";
    expect((await call('POST', '/sync/argo', { type: 1, key, limit: 1 })).status).toBe(200);
    expect((await call('GET', `/sync/argo/${encodeURIComponent(key)}?type=1`)).json()).toMatchObject({ key, limit: 1 });
  });

  it('answers bad bodies and queries with 4xx and a message, never 5xx, and changes nothing', async () => {
    const before = (await call('GET', '/sync/fuzz')).text;
    const value = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }));
    const body = fc.oneof(
      fc.dictionary(fc.constantFrom('type', 'cmName', 'key', 'limit', 'namespace', 'extra'), value),
      value,
      fc.record({ type: fc.constantFrom(0, 1, 'DATABASE', 'CONFIGMAP', 2, 'x'), key: fc.constantFrom('', 'a/b', 'ok'), limit: fc.oneof(fc.integer({ min: -5, max: 0 }), fc.double(), fc.string()), cmName: fc.constantFrom('', 'Bad_Name', 'ok') }),
    );
    // A positive integer limit could make a body valid; those are exercised below, where state may change.
    const invalidBody = body.filter((payload) => !(isObject(payload) && Number.isInteger(payload.limit) && (payload.limit as number) > 0));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('POST', 'PUT'), invalidBody, async (method, payload) => {
        const response = await call(method, method === 'POST' ? '/sync/fuzz' : '/sync/fuzz/key', payload);
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        expect(response.json()).toMatchObject({ code: expect.any(Number), message: expect.any(String) });
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), async (type, cmName) => {
        const response = await call('GET', `/sync/fuzz/key?type=${encodeURIComponent(type)}&cmName=${encodeURIComponent(cmName)}`);
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
    expect((await call('GET', '/sync/fuzz')).text).toBe(before);

    const anyOtherFields = fc.record({ type: value, key: value, cmName: value, limit: fc.integer({ min: 1, max: 5 }) }, { requiredKeys: ['limit'] });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('POST', 'PUT'), anyOtherFields, async (method, payload) => {
        const response = await call(method, method === 'POST' ? '/sync/fuzz-valid' : '/sync/fuzz-valid/key', payload);
        expect(response.status).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
  });
});

describe('sync limits API without enableAPI', () => {
  let server: TestServer;
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    const handle = await database.open();
    await migrateArgosyncSchema(handle);
    const routes: FastifyPluginAsync = async (api) => {
      await api.register(syncLimitRoutes, { configMapLimits: new ConfigMapLimits(new SqlConfigMapStore(handle)), audit: new SyncAudit(handle, systemClock), events: new SyncEvents() });
    };
    server = await startTestServer({}, { apiRoutes: [routes] });
  });
  afterAll(async () => {
    await server.close();
    await database.drop();
  });

  it('refuses database limits as Argo does', async () => {
    const response = await server.fetch('/api/v1/sync/argo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 1, key: 'k', limit: 1 }) });
    expect({ status: response.status, body: response.json() }).toEqual({ status: 400, body: { code: 3, message: 'unsupported sync config type: DATABASE' } });
  });
});

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
