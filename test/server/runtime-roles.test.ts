import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startRuntime, type RunningRuntime } from '../../runtime/runtime-process.js';
import { createTestDatabase, describeOn, type TestDatabase } from '../support/databases.js';
import { runtimeApi } from '../support/runtime-api.js';
import { WorkflowGates } from '../support/workflow-gates.js';

describeOn('mysql')('argosync server and argosync controller as separate processes sharing one MariaDB state store and sync database', () => {
  let database: TestDatabase;
  let gates: WorkflowGates;
  const homes: string[] = [];
  let controller: RunningRuntime;
  let server: RunningRuntime;
  const serverApi = runtimeApi(() => server);
  const controllerApi = runtimeApi(() => controller);

  beforeAll(async () => {
    database = await createTestDatabase('mysql');
    gates = await WorkflowGates.create();
    const { host, port, database: name } = database.spec;
    const start = async (role: 'server' | 'controller', controllerName: string) => {
      const home = await mkdtemp(join(tmpdir(), `argosync-${role}-`));
      homes.push(home);
      const config = join(home, 'argosync.yaml');
      await writeFile(config, stringify({ synchronization: { controllerName, mysql: { host, port, database: name, userName: 'root' } } }));
      const stateStore = `mysql://root@${host}:${port}/${name}`;
      return startRuntime({ home, config, stateStore }, { port: 0, address: '127.0.0.1', logFormat: 'json', apiRateLimit: '1000000' }, () => undefined, role);
    };
    controller = await start('controller', 'controller-1');
    server = await start('server', 'server-1');
  });
  afterAll(async () => {
    await server?.stop();
    await controller?.stop();
    for (const home of homes) await rm(home, { recursive: true, force: true });
    await gates?.remove();
    await database?.drop();
  });

  it('the controller serves only its operations endpoints; the server has no engine', async () => {
    expect((await controllerApi('GET', '/sync/team-a')).status).toBe(404);
    expect(controller.engine?.manager).toBeDefined();
    expect(server.engine).toBeUndefined();
  });

  it('a workflow submitted to the server waits in the controller for a missing limit and runs once the server creates it', async () => {
    const workflow = { metadata: { name: 'wf' }, spec: { entrypoint: 'main', synchronization: { semaphores: [{ database: { key: 'gpu' } }] }, templates: [gates.template()] } };
    expect((await serverApi('POST', '/workflows/team-a', { workflow })).status).toBe(200);
    await vi.waitFor(async () => expect((await serverApi('GET', '/workflows/team-a/wf')).json).toMatchObject({ status: { phase: 'Pending' } }), { timeout: 10_000, interval: 25 });

    expect((await serverApi('POST', '/sync/team-a', { type: 1, key: 'gpu', limit: 1 })).status).toBe(200);
    await vi.waitFor(async () => expect((await serverApi('GET', '/workflows/team-a/wf')).json).toMatchObject({ status: { phase: 'Running' } }), { timeout: 10_000, interval: 25 });
    expect((await serverApi('GET', '/sync/team-a/gpu/status?type=1')).json).toMatchObject({ holders: [{ key: 'team-a/wf', token: 1 }] });
    expect((await serverApi('GET', '/config/synchronization')).json).toMatchObject({ controllers: [{ name: 'controller-1' }] });

    await gates.open('team-a', 'wf');
    await vi.waitFor(async () => expect((await serverApi('GET', '/workflows/team-a/wf')).json).toMatchObject({ status: { phase: 'Succeeded' } }), { timeout: 10_000, interval: 25 });
    // The controller persists the finished phase first and releases right after, as Argo does.
    await vi.waitFor(async () => expect((await serverApi('GET', '/sync/team-a/gpu/status?type=1')).json).toMatchObject({ holders: [] }), { timeout: 10_000, interval: 25 });
  });
});
