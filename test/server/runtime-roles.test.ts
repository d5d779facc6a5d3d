import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime, type RunningRuntime } from '../../runtime/runtime-process.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

const insecure = new Agent({ connect: { rejectUnauthorized: false } });

describe('argosync server and argosync controller as separate processes sharing a MariaDB sync database', () => {
  let database: TestDatabase;
  const homes: string[] = [];
  let controller: RunningRuntime;
  let server: RunningRuntime;

  beforeAll(async () => {
    database = await createTestDatabase('mysql');
    const start = async (role: 'server' | 'controller', controllerName: string) => {
      const home = await mkdtemp(join(tmpdir(), `argosync-${role}-`));
      homes.push(home);
      const config = join(home, 'argosync.yaml');
      const { host, port, database: name } = database.spec;
      await writeFile(config, stringify({ synchronization: { controllerName, mysql: { host, port, database: name, userName: 'root' } } }));
      return startRuntime({ home, config }, { port: 0, address: '127.0.0.1', logFormat: 'json' }, () => undefined, role);
    };
    controller = await start('controller', 'controller-1');
    server = await start('server', 'server-1');
  });
  afterAll(async () => {
    await server?.stop();
    await controller?.stop();
    for (const home of homes) await rm(home, { recursive: true, force: true });
    await database.drop();
  });

  const get = async (runtime: RunningRuntime, path: string, init: { method?: 'GET' | 'POST'; body?: unknown } = {}) => {
    const response = await request(`${runtime.url}${path}`, {
      method: init.method ?? 'GET',
      dispatcher: insecure,
      headers: { authorization: `Bearer ${runtime.token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    return { status: response.statusCode, text: await response.body.text() };
  };

  it('the controller serves only its operations endpoints; the server has no engine', async () => {
    expect((await get(controller, 'healthz')).text).toBe('ok');
    expect((await get(controller, 'readyz')).status).toBe(200);
    expect((await get(controller, 'metrics')).text).toContain('argosync_locks_held');
    expect((await get(controller, 'api/v1/sync/team-a')).status).toBe(404);
    expect(server.engine).toBeUndefined();
  });

  it("a limit created through the server admits the controller's waiting workflow", async () => {
    const { manager } = controller.engine!;
    const acquire = () =>
      manager.tryAcquire({ namespace: 'team-a', workflowName: 'wf', priority: 0, creationTime: Date.UTC(2026, 0, 1), synchronization: { semaphores: [{ database: { key: 'gpu' } }] } });
    expect((await acquire()).acquired).toBe(false);
    const woken = new Promise<void>((resolve) => controller.onWake((key) => key === 'team-a/wf' && resolve()));
    expect((await get(server, 'api/v1/sync/team-a', { method: 'POST', body: { type: 1, key: 'gpu', limit: 1 } })).status).toBe(200);
    await woken;
    expect((await acquire()).acquired).toBe(true);
    expect(JSON.parse((await get(server, 'api/v1/sync/team-a/gpu/status?type=1')).text)).toMatchObject({ holders: [{ key: 'team-a/wf', token: 1 }] });
    expect(JSON.parse((await get(server, 'api/v1/config/synchronization')).text)).toMatchObject({ controllers: [{ name: 'controller-1' }] });
  });
});
