import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, fetch } from 'undici';
import { runCli } from '../support/cli-process.js';
import { createTestDatabase, describeOn, type TestDatabase } from '../support/databases.js';
import { stateStoreUrl } from '../support/state-store-url.js';

const insecure = new Agent({ connect: { rejectUnauthorized: false } });

describe('argosync up', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'argosync-up-'));
  });
  afterAll(() => rm(home, { recursive: true, force: true }));

  it('starts the controller on the embedded store, serves HTTPS, prints URL, token and data dir, and stops on SIGTERM', async () => {
    const cli = runCli(['up', '--port', '0', '--home', home], { ARGOSYNC_ADMIN_TOKEN: 'fixed-test-token' });
    const [, url] = (await cli.line(/^argosync listening on (https:\/\/127\.0\.0\.1:\d+\/)$/)) as unknown as [string, string];
    await cli.line(/^data directory: /);
    expect(cli.stdout()).toContain(`opening the state store (pglite in ${join(home, 'state')})`);
    expect(cli.stdout()).toContain('admin token: the value of ARGOSYNC_ADMIN_TOKEN (not printed)');
    expect(cli.stdout() + cli.stderr()).not.toContain('fixed-test-token');
    expect((await stat(home)).mode & 0o777).toBe(0o700);
    expect(cli.stdout()).toContain(`data directory: ${home}`);

    expect(await (await fetch(`${url}healthz`, { dispatcher: insecure })).text()).toBe('ok');
    const ready = await fetch(`${url}readyz`, { dispatcher: insecure });
    expect(ready.status).toBe(200);
    const denied = await fetch(`${url}api/v1/version`, { dispatcher: insecure });
    expect(denied.status).toBe(401);
    const version = await fetch(`${url}api/v1/version`, { dispatcher: insecure, headers: { authorization: 'Bearer fixed-test-token' } });
    expect(version.status).toBe(200);
    const metrics = await (await fetch(`${url}metrics`, { dispatcher: insecure })).text();
    expect(metrics).toContain('# TYPE argosync_locks_held gauge');

    // A newcomer's next step: create a limit with the CLI against the printed URL and token.
    const env = { ARGOSYNC_SERVER: url.replace(/\/$/, ''), ARGOSYNC_TOKEN: 'fixed-test-token', ARGOSYNC_INSECURE_SKIP_VERIFY: 'true' };
    const create = runCli(['sync', 'create', 'gpu', '--type', 'configmap', '--cm-name', 'limits', '--limit', '2', '-n', 'team-a'], env);
    expect(await create.exited).toBe(0);
    expect(create.stdout()).toBe('Sync limit created\nKey: gpu\nType: configmap\nConfigMap Name: limits\nNamespace: team-a\nLimit: 2\n');
    const database = runCli(['sync', 'create', 'db-gpu', '--type', 'DATABASE', '--limit', '3', '-n', 'team-a'], env);
    expect(await database.exited).toBe(0);
    const list = runCli(['sync', 'list', '-n', 'team-a'], env);
    expect(await list.exited).toBe(0);
    expect(list.stdout()).toBe('KEY     TYPE       CONFIGMAP  HELD  WAITING\ngpu     configmap  limits     0/2   0\ndb-gpu  database              0/3   0\n');
    const duplicate = runCli(['sync', 'create', 'db-gpu', '--type', 'database', '--limit', '3', '-n', 'team-a'], env);
    expect(await duplicate.exited).toBe(1);
    expect(duplicate.stderr()).toBe('argosync: failed to create sync limit: Database sync limit already exists in namespace "team-a".\n');
    const usage = runCli(['sync', 'create', 'x', '--type', 'redis', '--limit', '1'], env);
    expect(await usage.exited).toBe(2);
    expect(usage.stderr()).toBe("argosync: --type must be either 'database' or 'configmap'\n");
    const unauthenticated = runCli(['sync', 'get', 'gpu', '--type', 'configmap', '--cm-name', 'limits', '-n', 'team-a'], { ...env, ARGOSYNC_TOKEN: 'wrong' });
    expect(await unauthenticated.exited).toBe(1);
    expect(unauthenticated.stderr()).toMatch(/^argosync: failed to get sync limit: token not valid/);

    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toContain('shutting down');
  }, 120_000); // seven child processes, each compiling the CLI with tsx: slow on a loaded 2-core machine

  it("applies the config file's server section beneath the flags given", async () => {
    const config = join(home, 'server.yaml');
    // Port 1 would fail to bind, and rate limit 2 would refuse the third request: the flags given win over both.
    await writeFile(config, 'server:\n  port: 1\n  hsts: false\n  baseHref: /from-config/\n  apiRateLimit: 2\n  maxBodyBytes: 64\n');
    const cli = runCli(['up', '--port', '0', '--home', home, '--config', config, '--api-rate-limit', '5'], { ARGOSYNC_ADMIN_TOKEN: 'fixed-test-token' });
    try {
      const [, url] = (await cli.line(/^argosync listening on (\S+)$/)) as unknown as [string, string];
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/from-config\/$/);
      const healthz = await fetch(`${url}healthz`, { dispatcher: insecure });
      expect([healthz.status, healthz.headers.get('x-ratelimit-limit'), healthz.headers.get('strict-transport-security')]).toEqual([200, '5', null]);
      const large = await fetch(`${url}api/v1/sync/team-a`, {
        method: 'POST',
        dispatcher: insecure,
        headers: { authorization: 'Bearer fixed-test-token', 'content-type': 'application/json' },
        body: JSON.stringify({ type: 1, key: 'k'.repeat(80), limit: 1 }),
      });
      expect([large.status, await large.json()]).toEqual([400, { code: 3, message: 'request body is larger than the limit of 64 bytes' }]);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  }, 60_000);
});

describeOn('postgresql')('argosync migrate', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('postgresql');
  });
  afterAll(() => database.drop());

  it('creates the schemas on a state store given by URL and reports the versions', async () => {
    const cli = runCli(['migrate', '--home', join(tmpdir(), 'argosync-migrate-home')], { ARGOSYNC_STATE_STORE: stateStoreUrl(database.spec) });
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toContain('sync database: sync_schema_history at version 10');
  });

  it('says what is wrong, and exits 1, when the database cannot be reached', async () => {
    const cli = runCli(['migrate', '--state-store', 'postgres://postgres@127.0.0.1:1/test', '--home', join(tmpdir(), 'argosync-migrate-home')]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toBe('argosync: cannot connect to postgresql at 127.0.0.1:1: connection refused\n');
    // It waited first, as reconnectionConfig's defaults say (5 retries, from 100 ms doubling), saying so each time.
    expect(cli.stdout()).toContain('warning: waiting for the state store postgresql at 127.0.0.1:1: attempt 1 of 6 failed (connection refused); retrying in 100 ms\n');
    expect(cli.stdout()).toContain('warning: waiting for the state store postgresql at 127.0.0.1:1: attempt 5 of 6 failed (connection refused); retrying in 1600 ms\n');
  }, 60_000); // the CLI compiles with tsx, then waits 3.1 s for the database: slow on a loaded 2-core machine

  it('refuses a bad flag value before it opens anything, naming the flag and the accepted values', async () => {
    const untouched = join(tmpdir(), `argosync-untouched-${process.pid}`);
    const cli = runCli(['up', '--home', untouched, '--loglevel', 'loud']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toBe('argosync: --loglevel must be one of debug, info, warn, error, got "loud"\n');
    expect(cli.stdout()).toBe('');
    expect(existsSync(untouched)).toBe(false);
  });

  it('exits 2 on a usage mistake', async () => {
    const cli = runCli(['migrate', '--no-such-flag']);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toContain("unknown option '--no-such-flag'");
  });
});
