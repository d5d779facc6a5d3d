import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { request } from 'undici';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseExecutor } from '../../runtime/controller/workflows/executors/choose-executor.js';
import { LocalExecutor } from '../../runtime/controller/workflows/executors/local-executor.js';
import { ensurePrivateHome } from '../../runtime/home-permissions.js';
import { redactUrl } from '../../runtime/redact.js';
import { stateStoreUrlOf } from '../../runtime/runtime-context.js';
import { parseDatabaseUrl } from '../../runtime/store/sql-database.js';
import { startRuntime, type RunningRuntime } from '../../runtime/runtime-process.js';
import { hashToken, policyFilePath } from '../../runtime/server/auth/policy-file-authorizer.js';
import { createTestDatabase, describeOn, testServer, type TestDatabase } from '../support/databases.js';
import { insecureAgent, runtimeApi } from '../support/runtime-api.js';

/** Kubernetes service-account user names reach 339 characters; the audit column held 256. */
const LONG_SUBJECT = `system:serviceaccount:${'a'.repeat(63)}:${'b'.repeat(253)}`;
const LONG_TOKEN = 'long-subject-token';
const SECRET_VARIABLE = 'ARGOSYNC_TEST_SECRET_VALUE';
const SECRET = 'the-runtime-secret-7f3a';

const echoWorkflow = (metadata: Record<string, unknown>, command = ['true']) => ({
  workflow: {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata,
    spec: { entrypoint: 'main', templates: [{ name: 'main', container: { image: 'busybox', command } }] },
  },
});

/** Polls `read` until `done` holds (the controller works in the background), failing after `timeoutMs`. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the embedded runtime under attack (SPEC §7.6)', () => {
  let root: string;
  let home: string;
  let runtime: RunningRuntime;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'argosync-security-'));
    home = join(root, 'home');
    await mkdir(join(root, 'victim', 'keep'), { recursive: true });
    await mkdir(home, { mode: 0o755 });
    await writeFile(
      policyFilePath(home),
      stringify({ tokens: [{ subject: LONG_SUBJECT, sha256: hashToken(LONG_TOKEN), rules: [{ verbs: ['*'], resources: ['*'], namespaces: ['team-a'] }] }] }),
    );
    process.env[SECRET_VARIABLE] = SECRET;
    runtime = await startRuntime({ home }, { port: 0, logFormat: 'json', apiRateLimit: '1000000' }, () => undefined);
  });
  afterAll(async () => {
    delete process.env[SECRET_VARIABLE];
    await runtime?.stop();
    await rm(root, { recursive: true, force: true });
  });
  const api = runtimeApi(() => runtime);

  describe('names are validated before use', () => {
    it('refuses a namespace that walks out of the home, and the directory outside survives on disk', async () => {
      const response = await api('POST', '/workflows/..%2F..%2Fvictim', echoWorkflow({ name: 'wf' }));
      expect(response.status).toBe(400);
      expect(response.json).toMatchObject({ code: 3, message: expect.stringMatching(/^invalid namespace "\.\.\/\.\.\/victim": a lowercase RFC 1123 label/) });
      const submitted = await api('POST', '/workflows/team-a', echoWorkflow({ name: 'runs-here' }));
      expect(submitted.status).toBe(200);
      const done = await eventually(() => api('GET', '/workflows/team-a/runs-here'), (r) => (r.json.status as { phase?: string } | undefined)?.phase === 'Succeeded');
      expect((done.json.status as { phase: string }).phase).toBe('Succeeded');
      expect(await api('DELETE', '/workflows/team-a/runs-here')).toMatchObject({ status: 200 });
      expect((await stat(join(root, 'victim', 'keep'))).isDirectory()).toBe(true);
      // Node folders are named by the workflow's uid, never by a namespace or a name.
      for (const entry of await readdir(join(home, 'executions')).catch(() => [])) expect(entry).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('refuses a generateName that is a path or too long for its 5-character suffix', async () => {
      for (const generateName of ['../../../x/', `${'a'.repeat(252)}`, 'Upper-']) {
        const response = await api('POST', '/workflows/team-a', echoWorkflow({ generateName }));
        expect(response.status, generateName).toBe(400);
        expect(response.json.message).toMatch(/metadata\.generateName/);
      }
      expect(await api('POST', '/workflows/team-a', echoWorkflow({ generateName: `${'g'.repeat(57)}-` }))).toMatchObject({ status: 200 });
    });

    it('answers NUL and control characters with 400, never 500', async () => {
      for (const method of ['POST', 'GET', 'PUT', 'DELETE'] as const) {
        const path = method === 'POST' ? '/sync/team-a' : '/sync/team-a/a%00b?type=1';
        const body = method === 'POST' ? { type: 1, key: 'a\u0000b', limit: 1 } : method === 'PUT' ? { type: 1, limit: 1 } : undefined;
        const response = await api(method, path, body);
        expect(response, method).toMatchObject({ status: 400, json: { code: 3, message: expect.stringMatching(/^invalid key "a\\u0000b": must not contain NUL/) } });
      }
      expect((await api('GET', '/workflows/%00')).status).toBe(400);
      expect((await api('GET', '/workflows/team-a/%01x')).status).toBe(400);
      expect((await api('GET', '/archived-workflows/%00')).status).toBe(400);
      const nulInManifest = await api('POST', '/workflows/team-a', echoWorkflow({ name: 'nul', labels: { a: 'x\u0000y' } }));
      expect(nulInManifest).toMatchObject({ status: 400, json: { message: expect.stringContaining('metadata.labels.a must not contain a NUL') } });
    });

    it('treats prototype names as ordinary ConfigMap keys', async () => {
      expect((await api('POST', '/sync/team-a', { cmName: 'protos', key: 'other', limit: 1 })).status).toBe(200);
      for (const key of ['toString', 'constructor', 'valueOf', 'hasOwnProperty', '__proto__']) {
        const ref = `/sync/team-a/${key}?cmName=protos`;
        expect(await api('GET', ref), key).toMatchObject({ status: 404, json: { code: 5, message: `key ${key} not found in configmap team-a/protos` } });
        expect((await api('POST', '/sync/team-a', { cmName: 'protos', key, limit: 2 })).status, key).toBe(200);
        expect(await api('GET', ref), key).toMatchObject({ status: 200, json: { key, limit: 2 } });
        expect((await api('POST', '/sync/team-a', { cmName: 'protos', key, limit: 2 })).status, key).toBe(409);
      }
      // A workflow waiting on a prototype name sees a missing key, not "value.trim is not a function".
      const waiting = echoWorkflow({ name: 'waits-on-proto' });
      Object.assign(waiting.workflow.spec, { synchronization: { semaphores: [{ configMapKeyRef: { name: 'protos-empty', key: 'isPrototypeOf' } }] } });
      expect((await api('POST', '/sync/team-a', { cmName: 'protos-empty', key: 'unrelated', limit: 1 })).status).toBe(200);
      expect((await api('POST', '/workflows/team-a', waiting)).status).toBe(200);
      const pending = await eventually(() => api('GET', '/workflows/team-a/waits-on-proto'), (r) => typeof (r.json.status as { message?: string } | undefined)?.message === 'string');
      expect((pending.json.status as { message: string }).message).toMatch(/key isPrototypeOf not found in configmap team-a\/protos-empty/);
    });
  });

  describe('the config API takes values literally and reports connection failures as a class', () => {
    it('refuses secret references in API bodies: they would read the runtime environment', async () => {
      const response = await api('PUT', '/config/persistence', {
        postgresql: { host: '127.0.0.1', database: 'x', tableName: 'argo_workflows', passwordSecret: { name: 'argosync-test-secret', key: 'value' } },
      });
      expect(response).toMatchObject({ status: 400, json: { code: 3, message: expect.stringMatching(/^persistence\.postgresql\.passwordSecret cannot be set through the API/) } });
    });

    describeOn('postgresql')('on PostgreSQL', () => {
      it('does not expand ${VAR} from the runtime environment, and hides the driver text', async () => {
        const { host, port, user, password } = testServer('postgresql');
        const response = await api('PUT', '/config/synchronization', {
          controllerName: 'c1',
          postgresql: { host, port, database: `\${${SECRET_VARIABLE}}`, userName: user, ...(password && { password }) },
        });
        expect(response).toEqual({ status: 400, json: { code: 3, message: `cannot connect to postgresql at ${host}:${port}: database does not exist` } });
      });
    });

    describeOn('mysql')('on MariaDB', () => {
      let mariadb: TestDatabase;
      beforeAll(async () => {
        mariadb = await createTestDatabase('mysql');
      });
      afterAll(() => mariadb?.drop());

      it('stores ${...} as text: it reaches the database verbatim and GET shows what was sent', async () => {
        const { host, port, database, user, password } = mariadb.spec;
        const controllerName = `ctl-\${${SECRET_VARIABLE}}`;
        const section = { controllerName, mysql: { host, port, database, userName: user, ...(password && { password }) } };
        const put = await api('PUT', '/config/synchronization', section);
        try {
          expect(put.status, JSON.stringify(put.json)).toBe(200);
          expect(JSON.stringify(put.json)).not.toContain(SECRET);
          expect(put.json.controllerName).toBe(controllerName);
          const controllers = await eventually(() => api('GET', '/config/synchronization'), (r) => JSON.stringify(r.json.controllers ?? []).includes('ctl-'));
          expect(controllers.json.controllers).toEqual(expect.arrayContaining([expect.objectContaining({ name: controllerName })]));
        } finally {
          expect((await api('DELETE', '/config/synchronization')).status).toBe(200);
        }
      });

      it('classifies refused, authentication and missing-database failures without the driver text', async () => {
        const mysql = (extra: Record<string, unknown>) => ({ mysql: { host: mariadb.spec.host, port: mariadb.spec.port, database: mariadb.spec.database, tableName: 'argo_workflows', userName: mariadb.spec.user, password: mariadb.spec.password, ...extra } });
        const at = `${mariadb.spec.host}:${mariadb.spec.port}`;
        expect((await api('PUT', '/config/persistence', mysql({ userName: 'nobody-here', password: 'x' }))).json.message).toBe(`cannot connect to mysql at ${at}: authentication failed`);
        expect((await api('PUT', '/config/persistence', mysql({ database: 'no_such_database_here' }))).json.message).toBe(`cannot connect to mysql at ${at}: database does not exist`);
        expect((await api('PUT', '/config/persistence', mysql({ port: 1 }))).json.message).toBe(`cannot connect to mysql at ${mariadb.spec.host}:1: connection refused`);
      });
    });
  });

  describe('audit', () => {
    it('records an actor of any length in the same change', async () => {
      const created = await api('POST', '/sync/team-a', { type: 1, key: 'long-actor', limit: 3 }, LONG_TOKEN);
      expect(created.status, JSON.stringify(created.json)).toBe(200);
      const audit = await api('GET', '/sync-audit?namespace=team-a');
      expect(audit.json.items).toEqual(expect.arrayContaining([expect.objectContaining({ actor: LONG_SUBJECT, limit: 'Database/long-actor', action: 'create', newValue: 3 })]));
    });

    it('never leaves an unaudited change: when the audit cannot be written, the change is not made', async () => {
      const db = runtime.context.stateStore.db;
      await sql`alter table argosync_audit rename to argosync_audit_away`.execute(db);
      try {
        expect((await api('POST', '/sync/team-a', { type: 1, key: 'unaudited', limit: 1 })).status).toBe(500);
        expect((await api('POST', '/sync/team-a', { cmName: 'unaudited', key: 'k', limit: 1 })).status).toBe(500);
      } finally {
        await sql`alter table argosync_audit_away rename to argosync_audit`.execute(db);
      }
      expect((await api('GET', '/sync/team-a/unaudited?type=1')).status).toBe(404);
      expect((await api('GET', '/sync/team-a/k?cmName=unaudited')).status).toBe(404);
    });
  });

  describe('files', () => {
    it('tightens an existing 0755 home to 0700 and keeps the embedded database owner-only', async () => {
      expect((await stat(home)).mode & 0o777).toBe(0o700);
      const loose: string[] = [];
      for (const entry of await readdir(join(home, 'state'), { withFileTypes: true, recursive: true })) {
        const mode = (await stat(join(entry.parentPath, entry.name))).mode & 0o777;
        if (mode !== (entry.isDirectory() ? 0o700 : 0o600)) loose.push(`${entry.name} ${mode.toString(8)}`);
      }
      expect(loose).toEqual([]);
    });

    it('says when it tightens a home', async () => {
      const loose = await mkdtemp(join(tmpdir(), 'argosync-loose-'));
      try {
        await import('node:fs/promises').then((fs) => fs.chmod(loose, 0o755));
        const said: string[] = [];
        await ensurePrivateHome(loose, (line) => said.push(line));
        expect(said).toEqual([`tightened the permissions of ${loose} from 0755 to 0700: only its owner may read the runtime's data`]);
        await ensurePrivateHome(loose, (line) => said.push(line));
        expect(said).toHaveLength(1);
      } finally {
        await rm(loose, { recursive: true, force: true });
      }
    });
  });
});

describe('DNS rebinding and unauthenticated execution (SPEC §7.6)', () => {
  let home: string;
  let runtime: RunningRuntime;
  const said: string[] = [];
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'argosync-rebinding-'));
    runtime = await startRuntime({ home }, { port: 0, secure: false, authModes: ['server'], allowedHosts: ['argosync.internal'], logFormat: 'json' }, (line) => said.push(line));
  });
  afterAll(async () => {
    await runtime?.stop();
    await rm(home, { recursive: true, force: true });
  });

  const send = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const response = await request(`${runtime.url}api/v1${path}`, {
      method: method as 'GET',
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      dispatcher: insecureAgent,
    });
    const text = await response.body.text();
    return { status: response.statusCode, json: JSON.parse(text) as Record<string, unknown> };
  };

  it('answers only loopback names and --allowed-hosts, whatever the port', async () => {
    const port = new URL(runtime.url).port;
    const refused = await send('GET', '/version', { host: 'attacker.example' });
    expect(refused).toEqual({ status: 403, json: { code: 7, message: expect.stringContaining('--allowed-hosts') } });
    expect((await send('GET', '/version', { host: `attacker.example:${port}` })).status).toBe(403);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST', 'argosync.internal:80']) {
      expect((await send('GET', '/version', { host })).status, host).toBe(200);
    }
  });

  it('answers the loopback address it is bound to, which no rebound name can be', async () => {
    const boundHome = await mkdtemp(join(tmpdir(), 'argosync-bound-'));
    const bound = await startRuntime({ home: boundHome }, { port: 0, address: '127.0.0.2', secure: false, authModes: ['server'], logFormat: 'json' }, () => undefined);
    try {
      const port = new URL(bound.url).port;
      const get = async (host: string) => (await request(`http://127.0.0.2:${port}/api/v1/version`, { headers: { host }, dispatcher: insecureAgent })).statusCode;
      expect(await get(`127.0.0.2:${port}`)).toBe(200);
      expect(await get(`localhost:${port}`)).toBe(200);
      expect(await get('attacker.example')).toBe(403);
    } finally {
      await bound.stop();
      await rm(boundHome, { recursive: true, force: true });
    }
  });

  it('a rebound page cannot submit a command, and server mode alone never runs one', async () => {
    const marker = join(home, 'ran');
    const workflow = echoWorkflow({ name: 'touch' }, ['touch', marker]);
    expect((await send('POST', '/workflows/default', { host: 'attacker.example' }, workflow)).status).toBe(403);
    const local = await send('POST', '/workflows/default', { host: 'localhost' }, workflow);
    expect(local.status).toBe(200);
    const failed = await eventually(() => send('GET', '/workflows/default/touch', { host: 'localhost' }), (r) => ['Error', 'Failed'].includes(String((r.json.status as { phase?: string } | undefined)?.phase)));
    expect(JSON.stringify(failed.json.status)).toContain('no executor is enabled');
    await expect(stat(marker)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a cross-site change from a browser, with or without the session cookie', async () => {
    const body = echoWorkflow({ name: 'csrf' });
    expect((await send('POST', '/workflows/default', { host: 'localhost', origin: 'http://evil.example' }, body)).status).toBe(403);
    expect((await send('POST', '/workflows/default', { host: 'localhost', 'sec-fetch-site': 'cross-site' }, body)).status).toBe(403);
    expect((await send('DELETE', '/workflows/default/touch', { host: 'localhost', cookie: 'authorization=Bearer%20x' })).status).toBe(403);
    const port = new URL(runtime.url).port;
    expect((await send('POST', '/workflows/default', { host: `localhost:${port}`, origin: `http://localhost:${port}` }, body)).status).toBe(200);
    expect((await send('DELETE', '/workflows/default/csrf', { host: 'localhost', 'sec-fetch-site': 'same-origin', cookie: 'authorization=x' })).status).toBe(200);
  });

  it('runs the local executor with server mode only when asked in so many words, and says why that is dangerous', async () => {
    expect(said.some((line) => line.includes('WARNING'))).toBe(false);
    const lines: string[] = [];
    const choice = { kubernetes: undefined, loopback: true, unauthenticatedCallers: true, home, say: (line: string) => lines.push(line) };
    expect(await chooseExecutor({ ...choice, requested: undefined })).not.toBeInstanceOf(LocalExecutor);
    expect(lines).toEqual([]);
    expect(await chooseExecutor({ ...choice, requested: 'local' })).toBeInstanceOf(LocalExecutor);
    expect(lines).toEqual(['WARNING: --auth-mode server with --executor local: anyone who can send a request to this server runs commands on this machine as this user, without a token']);
    expect(await chooseExecutor({ ...choice, unauthenticatedCallers: false, requested: undefined })).toBeInstanceOf(LocalExecutor);
  });

});

describe('secrets stay off the command line and out of messages (SPEC §7.6)', () => {
  it('takes the state-store URL from --state-store, else --state-store-file, else ARGOSYNC_STATE_STORE, else the home', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'argosync-state-url-'));
    try {
      const file = join(directory, 'url');
      await writeFile(file, 'postgres://u:from-file@db/x\n');
      const env = { ARGOSYNC_STATE_STORE: 'postgres://u:from-env@db/x' };
      expect(await stateStoreUrlOf({ stateStore: 'postgres://u:flag@db/x', stateStoreFile: file }, '/h', env)).toBe('postgres://u:flag@db/x');
      expect(await stateStoreUrlOf({ stateStoreFile: file }, '/h', env)).toBe('postgres://u:from-file@db/x');
      expect(await stateStoreUrlOf({}, '/h', env)).toBe('postgres://u:from-env@db/x');
      expect(await stateStoreUrlOf({}, '/h', {})).toBe('pglite:/h/state');
      await expect(stateStoreUrlOf({ stateStoreFile: join(directory, 'missing') }, '/h', {})).rejects.toThrow(`--state-store-file ${join(directory, 'missing')} cannot be read: ENOENT`);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('masks passwords and tokens of URLs in errors and logs', () => {
    expect(redactUrl('postgres://user:hunter2@db:5432/x?sslmode=require&password=p1&token=t1&access_token=a1')).toBe('postgres://user:***@db:5432/x?sslmode=require&password=***&token=***&access_token=***');
    expect(redactUrl('/oauth2/callback?code=c1&state=s1&iss=https%3A%2F%2Fidp')).toBe('/oauth2/callback?code=***&state=***&iss=https%3A%2F%2Fidp');
    expect(redactUrl('postgres://user:hun@t/er2@db:5432/x')).toBe('postgres://user:***@db:5432/x');
    expect(() => parseDatabaseUrl('postgres://user:hunter2@[bad/x?password=p1')).toThrow(/^invalid database URL "postgres:\/\/user:\*\*\*@\[bad\/x\?password=\*\*\*"/);
  });
});
