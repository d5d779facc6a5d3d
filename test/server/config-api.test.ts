import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { passwordSha256 } from '../../runtime/config/connection.js';
import { startRuntime, type RunningRuntime } from '../../runtime/runtime-process.js';
import { hashToken, policyFilePath } from '../../runtime/server/auth/policy-file-authorizer.js';
import { createTestDatabase, describeOn, type TestDatabase } from '../support/databases.js';
import { runtimeApi } from '../support/runtime-api.js';

const USER = 'argosync_config_api';
const PASSWORD = 'not-needed-but-secret';
const READER = 'reader-token';
const OUTSIDER = 'outsider-token';

describeOn('mysql')('runtime configuration API on the embedded runtime', () => {
  let home: string;
  let runtime: RunningRuntime;
  let mariadb: TestDatabase;
  const printed: string[] = [];
  let onPrinted = (): void => undefined;
  /** Resolves once the runtime has printed a line matching `pattern`. */
  const printedLine = (pattern: RegExp) =>
    new Promise<void>((resolve) => {
      onPrinted = () => {
        if (printed.some((line) => pattern.test(line))) resolve();
      };
      onPrinted();
    });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'argosync-config-api-'));
    mariadb = await createTestDatabase('mysql');
    // A user with a password, so the test can see that the password never comes back.
    const admin = await mariadb.open();
    await sql.raw(`create or replace user '${USER}'@'%' identified by '${PASSWORD}'`).execute(admin.db);
    await sql.raw(`grant all privileges on ${mariadb.spec.database}.* to '${USER}'@'%'`).execute(admin.db);
    await writeFile(
      policyFilePath(home),
      stringify({
        tokens: [
          { subject: 'reader', sha256: hashToken(READER), rules: [{ verbs: ['get'], resources: ['configmaps'], namespaces: ['*'] }] },
          { subject: 'outsider', sha256: hashToken(OUTSIDER), rules: [{ verbs: ['*'], resources: ['configmaps'], namespaces: ['team-x'] }] },
        ],
      }),
    );
    runtime = await startRuntime({ home }, { port: 0, logFormat: 'json' }, (line) => {
      printed.push(line);
      onPrinted();
    });
  });
  afterAll(async () => {
    await runtime.stop();
    await mariadb.drop();
    await rm(home, { recursive: true, force: true });
  });

  const api = runtimeApi(() => runtime);
  const mariadbSection = (extra: Record<string, unknown> = {}) => ({
    controllerName: 'controller-a',
    mysql: { host: mariadb.spec.host, port: mariadb.spec.port, database: mariadb.spec.database, userName: USER, password: PASSWORD },
    ...extra,
  });

  it('shows the embedded sync database, its schema version and the live controllers', async () => {
    const response = await api('GET', '/config/synchronization');
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ schemaVersion: 10, database: expect.stringMatching(/^pglite at /), controllers: [{ name: expect.any(String), lastHeartbeat: expect.any(String) }] });
  });

  it('moves the sync database to MariaDB live: validates, connects, migrates, saves, and never returns the password', async () => {
    const response = await api('PUT', '/config/synchronization', mariadbSection());
    expect(response.status, JSON.stringify(response.json)).toBe(200);
    expect(response.json).toMatchObject({
      controllerName: 'controller-a',
      mysql: { host: mariadb.spec.host, userName: USER, passwordSha256: passwordSha256(PASSWORD) },
      schemaVersion: 10,
      database: `mysql at ${mariadb.spec.host}:${mariadb.spec.port}/${mariadb.spec.database}`,
      controllers: [{ name: 'controller-a', lastHeartbeat: expect.any(String) }],
    });
    expect(JSON.stringify(response.json)).not.toContain(PASSWORD);
    expect(await readFile(join(home, 'config.yaml'), 'utf8')).toContain('controllerName: controller-a');

    // Database limits now live in MariaDB, and locks are taken there.
    expect((await api('POST', '/sync/team-a', { type: 1, key: 'gpu', limit: 2 })).status).toBe(200);
    const handle = await mariadb.open();
    expect((await sql<{ name: string }>`select name from sync_limit`.execute(handle.db)).rows).toEqual([{ name: 'team-a/gpu' }]);
    const acquired = await runtime.engine!.manager.tryAcquire({ namespace: 'team-a', workflowName: 'wf', priority: 0, creationTime: Date.UTC(2026, 0, 1), synchronization: { semaphores: [{ database: { key: 'gpu' } }] } });
    expect(acquired.acquired).toBe(true);
    expect((await sql<{ controller: string }>`select controller from sync_state where held = true`.execute(handle.db)).rows).toEqual([{ controller: 'controller-a' }]);
    expect(printed.join('\n')).not.toContain(PASSWORD);
  });

  it('refuses an unreachable database with the address and cause, and keeps the running configuration', async () => {
    const response = await api('PUT', '/config/synchronization', { controllerName: 'controller-b', mysql: { host: '127.0.0.1', port: 1, database: 'x', userName: 'root' } });
    expect(response).toEqual({ status: 400, json: { code: 3, message: 'cannot connect to mysql at 127.0.0.1:1: connection refused' } });
    expect((await api('GET', '/config/synchronization')).json).toMatchObject({ controllerName: 'controller-a' });
  });

  it('refuses an invalid section naming the key, before connecting to anything', async () => {
    const response = await api('PUT', '/config/synchronization', mariadbSection({ pollSecs: 3 }));
    expect(response.status).toBe(400);
    expect(response.json.message).toMatch(/synchronization\.pollSecs: unknown key/);
    expect((await api('PUT', '/config/synchronization', [])).status).toBe(400);
    expect((await api('PUT', '/config/workflows', {})).status).toBe(400);
  });

  it('creates the persistence schema at Argo version 68', async () => {
    const response = await api('PUT', '/config/persistence', {
      nodeStatusOffLoad: true,
      mysql: { host: mariadb.spec.host, port: mariadb.spec.port, database: mariadb.spec.database, tableName: 'argo_workflows', userName: 'root' },
    });
    expect(response.status, JSON.stringify(response.json)).toBe(200);
    expect(response.json).toMatchObject({ nodeStatusOffLoad: true, mysql: { tableName: 'argo_workflows' }, schemaVersion: 68 });
  });

  it('detaches the sync database on DELETE, keeping its tables, and falls back to the state store', async () => {
    expect((await api('DELETE', '/config/synchronization')).json).toEqual({});
    expect((await api('GET', '/config/synchronization')).json).toMatchObject({ database: expect.stringMatching(/^pglite at /) });
    const handle = await mariadb.open();
    expect((await sql<{ name: string }>`select name from sync_limit`.execute(handle.db)).rows).toEqual([{ name: 'team-a/gpu' }]);
  });

  it('applies a hand edit of the config file, and keeps running on a bad one', async () => {
    const { host, port, database } = mariadb.spec;
    await writeFile(join(home, 'config.yaml'), stringify({ synchronization: { controllerName: 'edited-by-hand', mysql: { host, port, database, userName: 'root' } } }));
    await printedLine(/^controller edited-by-hand started on mysql at /);
    expect((await api('GET', '/config/synchronization')).json).toMatchObject({ controllerName: 'edited-by-hand', schemaVersion: 10 });
    await writeFile(join(home, 'config.yaml'), 'synchronization:\n  pollSecs: 1\n');
    await printedLine(/^configuration rejected, keeping the last good one: .*synchronization\.pollSecs: unknown key/);
    expect((await api('GET', '/config/synchronization')).json).toMatchObject({ controllerName: 'edited-by-hand' });
  });

  it('answers any body with 200 or a 4xx and a message, never a 5xx, and keeps the configuration on a 4xx', async () => {
    const value = fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }));
    const body = fc.oneof(
      value,
      fc.dictionary(fc.constantFrom('pollSeconds', 'heartbeatSeconds', 'controllerName', 'mysql', 'postgresql', 'missingLimit', 'skipMigration', 'bogus'), value, { maxKeys: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('synchronization', 'persistence'), body, async (section, payload) => {
        const before = await readFile(join(home, 'config.yaml'), 'utf8').catch(() => '');
        const response = await api('PUT', `/config/${section}`, payload);
        expect(response.status).not.toBeGreaterThanOrEqual(500);
        if (response.status !== 200) {
          expect(response.json).toMatchObject({ code: expect.any(Number), message: expect.any(String) });
          expect(await readFile(join(home, 'config.yaml'), 'utf8').catch(() => '')).toBe(before);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('needs a token, and update on configmaps to change anything', async () => {
    expect((await api('GET', '/config/synchronization', undefined, 'wrong')).status).toBe(401);
    expect((await api('PUT', '/config/synchronization', {}, 'wrong')).status).toBe(401);
    expect((await api('DELETE', '/config/persistence', undefined, 'wrong')).status).toBe(401);
    expect((await api('GET', '/config/persistence', undefined, READER)).status).toBe(200);
    expect(await api('GET', '/config/persistence', undefined, OUTSIDER)).toEqual({
      status: 403,
      json: { code: 7, message: 'Permission denied, you are not allowed to get configmaps in namespace "default".' },
    });
    const denied = 'Permission denied, you are not allowed to update configmaps in namespace "default".';
    expect(await api('PUT', '/config/synchronization', mariadbSection(), READER)).toEqual({ status: 403, json: { code: 7, message: denied } });
    expect(await api('DELETE', '/config/persistence', undefined, READER)).toEqual({ status: 403, json: { code: 7, message: denied } });
  });
});
