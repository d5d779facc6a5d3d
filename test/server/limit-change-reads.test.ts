import type { FastifyPluginAsync } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../runtime/clock.js';
import { syncLimitRoutes } from '../../runtime/server/routes/sync-limits.js';
import { ConfigMapLimits } from '../../runtime/server/sync-limits/configmap-limits.js';
import { DatabaseLimits } from '../../runtime/server/sync-limits/database-limits.js';
import { SyncAudit } from '../../runtime/server/sync-limits/sync-audit.js';
import { SyncEvents } from '../../runtime/server/sync-limits/sync-events.js';
import { DEFAULT_SYNC_TABLES } from '../../runtime/store/migrations/sync-migrations.js';
import { SyncStore } from '../../runtime/store/sync/sync-store.js';
import { createSyncTestDatabase, type SyncTestDatabase } from '../support/sync-controllers.js';
import { startTestServer, type TestServer } from './server-harness.js';

describe('an update or delete of a limit reads it once, and the audit still gets the old value', () => {
  let database: SyncTestDatabase;
  let server: TestServer;
  let audit: SyncAudit;
  let limitReads: ReturnType<typeof vi.spyOn>;
  let configMapReads: ReturnType<typeof vi.spyOn>;
  beforeAll(async () => {
    database = await createSyncTestDatabase('pglite');
    const { admin, configMaps } = database;
    audit = new SyncAudit(admin, systemClock);
    const rows = new SyncStore(admin, DEFAULT_SYNC_TABLES).limits;
    limitReads = vi.spyOn(rows, 'read');
    configMapReads = vi.spyOn(configMaps, 'get');
    const databaseLimits = new DatabaseLimits(rows);
    const routes: FastifyPluginAsync = async (api) => {
      await api.register(syncLimitRoutes, { configMapLimits: new ConfigMapLimits(configMaps), databaseLimits: () => databaseLimits, audit, events: new SyncEvents() });
    };
    server = await startTestServer({ authModes: ['server'] }, { apiRoutes: [routes] });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  const send = (method: string, path: string, body?: unknown) =>
    server.fetch(`/api/v1/sync/reads${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  const cases = () => [
    { name: 'database', reads: limitReads, body: { type: 'DATABASE' }, query: '?type=DATABASE', lockName: 'Database/db-key', key: 'db-key' },
    { name: 'configmap', reads: configMapReads, body: { type: 'CONFIGMAP', cmName: 'cm' }, query: '?type=CONFIGMAP&cmName=cm', lockName: 'ConfigMap/cm/cm-key', key: 'cm-key' },
  ];

  it('counts one read per update and per delete, on both storages, with old → new audited', async () => {
    for (const { name, reads, body, query, lockName, key } of cases()) {
      expect((await send('POST', '', { ...body, key, limit: 2 })).status).toBe(200);
      reads.mockClear();
      expect((await send('PUT', `/${key}`, { ...body, limit: 5 })).status).toBe(200);
      expect(reads, `update of ${name}`).toHaveBeenCalledTimes(1);
      reads.mockClear();
      expect((await send('DELETE', `/${key}${query}`)).status).toBe(200);
      expect(reads, `delete of ${name}`).toHaveBeenCalledTimes(1);
      const entries = (await audit.list('reads')).filter((entry) => entry.limit === lockName).map(({ action, oldValue, newValue }) => ({ action, oldValue, newValue }));
      expect(entries).toEqual([
        { action: 'delete', oldValue: 5 },
        { action: 'update', oldValue: 2, newValue: 5 },
        { action: 'create', newValue: 2 },
      ]);
    }
  });

  it('audits nothing and changes nothing when the one read fails (an outage fails the change)', async () => {
    for (const { reads, body, key } of cases()) {
      expect((await send('POST', '', { ...body, key, limit: 2 })).status).toBe(200);
      const before = (await audit.list('reads')).length;
      reads.mockRejectedValueOnce(new Error('connection refused'));
      expect((await send('PUT', `/${key}`, { ...body, limit: 9 })).status).toBe(500);
      expect((await audit.list('reads')).length).toBe(before);
      expect((await send('GET', `/${key}${body.type === 'DATABASE' ? '?type=DATABASE' : '?cmName=cm'}`)).json()).toMatchObject({ limit: 2 });
    }
  });
});
