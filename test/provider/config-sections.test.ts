import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRuntime, type RunningRuntime } from '../../runtime/runtime-process.js';
import { createTestDatabase, describeOn, type TestDatabase } from '../support/databases.js';
import { EngineHarness, secret, SECRET_KEY } from '../support/engine-harness.js';
import { runtimeApi } from '../support/runtime-api.js';

const TYPE = 'argosync:index:SyncDatabase';
const USER = 'argosync_provider_test';

describeOn('mysql')('SyncDatabase and OffloadConfig through the plugin', () => {
  let home: string;
  let runtime: RunningRuntime;
  let engine: EngineHarness;
  let mariadb: TestDatabase;
  const api = runtimeApi(() => runtime);
  const setPassword = async (password: string) => {
    const admin = await mariadb.open();
    await sql.raw(`create or replace user '${USER}'@'%' identified by '${password}'`).execute(admin.db);
    await sql.raw(`grant all privileges on ${mariadb.spec.database}.* to '${USER}'@'%'`).execute(admin.db);
  };
  const program = (password: string) => ({
    driver: 'mysql',
    host: mariadb.spec.host!,
    port: mariadb.spec.port!,
    database: mariadb.spec.database!,
    username: USER,
    password: secret(password),
    controllerName: 'controller-a',
  });

  beforeAll(async () => {
    mariadb = await createTestDatabase('mysql');
    await setPassword('first-password');
    home = await mkdtemp(join(tmpdir(), 'argosync-provider-syncdb-'));
    runtime = await startRuntime({ home }, { port: 0, logFormat: 'json' }, () => undefined);
    engine = await EngineHarness.launch();
    await engine.configure({ endpoint: runtime.url, token: secret(runtime.token!), insecureSkipVerify: true });
  });
  afterAll(async () => {
    await engine?.close();
    await runtime?.stop();
    await mariadb?.drop();
    await rm(home, { recursive: true, force: true });
  });

  it('attaches the database, keeps the password secret, and is a no-op the second time', async () => {
    const created = await engine.up(TYPE, 'shared', program('first-password'));
    expect(created.entry).toMatchObject({ id: 'synchronization', outputs: { driver: 'mysql', schemaVersion: 10, controllers: [{ name: 'controller-a' }] } });
    expect(created.entry!.outputs.password).toEqual({ [SECRET_KEY]: expect.any(String), value: 'first-password' });
    expect((await api('GET', '/config/synchronization')).json).toMatchObject({ database: expect.stringMatching(/^mysql at /) });
    expect((await engine.up(TYPE, 'shared', program('first-password'))).operation).toBe('same');
    expect((await engine.refresh(TYPE, 'shared')).drifted).toBe(false);
  });

  it('shows a password changed outside Pulumi as drift, without revealing it', async () => {
    await setPassword('rotated-password');
    const section = { controllerName: 'controller-a', mysql: { host: mariadb.spec.host, port: mariadb.spec.port, database: mariadb.spec.database, userName: USER, password: 'rotated-password' } };
    expect((await api('PUT', '/config/synchronization', section)).status).toBe(200);
    const refreshed = await engine.refresh(TYPE, 'shared');
    expect(refreshed.drifted).toBe(true);
    expect(JSON.stringify(refreshed.entry)).not.toContain('rotated-password');
    expect((await engine.up(TYPE, 'shared', program('rotated-password'))).operation).toBe('update');
    expect((await engine.refresh(TYPE, 'shared')).drifted).toBe(false);
  });

  it('configures offload and archive on the same MariaDB at persistence schema version 68', async () => {
    const offload = { driver: 'mysql', host: mariadb.spec.host!, port: mariadb.spec.port!, database: mariadb.spec.database!, username: 'root', tableName: 'argo_workflows', nodeStatusOffLoad: true, archive: true, archiveTTL: '7d' };
    const created = await engine.up('argosync:index:OffloadConfig', 'offload', offload);
    expect(created.entry).toMatchObject({ id: 'persistence', outputs: { nodeStatusOffLoad: true, archive: true, archiveTTL: '7d', tableName: 'argo_workflows', schemaVersion: 68 } });
    expect((await engine.refresh('argosync:index:OffloadConfig', 'offload')).drifted).toBe(false);
    // useSyncDatabase takes the sync database's connection: giving one as well is refused, property by property.
    const urn = 'urn:pulumi:test::argosync-test::argosync:index:OffloadConfig::o';
    expect((await engine.check(urn, { useSyncDatabase: true, driver: 'mysql', host: 'h', database: 'd' })).failures).toEqual(
      ['driver', 'host', 'database'].map((property) => ({ property, reason: "is not used with useSyncDatabase: the sync database's connection serves" })),
    );
    expect((await engine.check(urn, { useSyncDatabase: true, archive: true })).failures).toEqual([]);
  });

  it('rejects a bad driver in Check, and detaches on destroy while keeping the tables', async () => {
    expect((await engine.check('urn:pulumi:test::argosync-test::argosync:index:SyncDatabase::bad', { driver: 'oracle', host: 'h', database: 'd' })).failures).toEqual([
      { property: 'driver', reason: 'must be "postgresql" or "mysql", got "oracle"' },
    ]);
    // useSyncDatabase is OffloadConfig's: a SyncDatabase given it still needs its own connection.
    expect((await engine.check('urn:pulumi:test::argosync-test::argosync:index:SyncDatabase::borrowing', { useSyncDatabase: true })).failures).toEqual([
      { property: 'driver', reason: 'must be "postgresql" or "mysql", got undefined' },
      { property: 'host', reason: 'is required' },
      { property: 'database', reason: 'is required' },
    ]);
    await engine.destroy();
    expect((await api('GET', '/config/synchronization')).json).toMatchObject({ database: expect.stringMatching(/^pglite at /) });
    const admin = await mariadb.open();
    expect((await sql<{ v: number }>`select schema_version as v from sync_schema_history`.execute(admin.db)).rows).toEqual([{ v: 10 }]);
  });
});
