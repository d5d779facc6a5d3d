import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedRuntime } from '../support/embedded-runtime.js';
import { runCli } from '../support/cli-process.js';
import { EngineHarness, secret } from '../support/engine-harness.js';
import { runtimeApi } from '../support/runtime-api.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { version: VERSION } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const PLATFORMS = ['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64', 'windows-amd64'];
const LIMIT = 'argosync:index:SemaphoreLimit';

/** Whether a node_modules folder is in the module resolution path of `directory` (it or any parent). */
function nodeModulesInReach(directory: string): string | undefined {
  for (let current = directory; ; current = dirname(current)) {
    if (existsSync(join(current, 'node_modules'))) return join(current, 'node_modules');
    if (dirname(current) === current) return undefined;
  }
}

describe('npm run package', () => {
  let packages: string;
  let installed: string;
  beforeAll(async () => {
    // One bundle for the whole file, into a folder of its own.
    packages = await mkdtemp(join(tmpdir(), 'argosync-packages-'));
    await run('npm', ['run', 'package', '--silent', '--', packages], { cwd: ROOT });
    installed = await mkdtemp(join(tmpdir(), 'argosync-installed-plugin-'));
  }, 180_000);
  afterAll(async () => {
    await rm(packages, { recursive: true, force: true });
    await rm(installed, { recursive: true, force: true });
  });

  it('writes an archive for each of the five platforms: one bundle, its launcher (.cmd on Windows), schema and version', async () => {
    expect((await readdir(packages)).sort()).toEqual(PLATFORMS.map((platform) => `pulumi-resource-argosync-v${VERSION}-${platform}.tar.gz`).sort());
    for (const platform of PLATFORMS) {
      const { stdout } = await run('tar', ['-tzf', join(packages, `pulumi-resource-argosync-v${VERSION}-${platform}.tar.gz`)]);
      const launcher = platform.startsWith('windows') ? 'pulumi-resource-argosync.cmd' : 'pulumi-resource-argosync';
      expect(stdout.trim().split('\n').sort(), platform).toEqual([launcher, 'pulumi-resource-argosync.cjs', 'package.json', 'schema.json'].sort());
    }
    const { stdout: cmd } = await run('tar', ['-xzOf', join(packages, `pulumi-resource-argosync-v${VERSION}-windows-amd64.tar.gz`), 'pulumi-resource-argosync.cmd']);
    expect(cmd).toContain('node "%~dp0pulumi-resource-argosync.cjs" %*\r\n');
  });

  describe("the README's walk-through, with the plugin installed from the linux archive into an empty folder outside the repository", () => {
    const runtime = embeddedRuntime();
    const api = runtimeApi(runtime);
    let engine: EngineHarness;
    beforeAll(async () => {
      // `pulumi plugin install resource argosync <version> --file <archive>` unpacks the archive into a folder of its own.
      await run('tar', ['-xzf', join(packages, `pulumi-resource-argosync-v${VERSION}-linux-${process.arch === 'arm64' ? 'arm64' : 'amd64'}.tar.gz`), '-C', installed]);
      // Nothing but node on PATH: no node_modules above the folder, none beside it, no NODE_PATH.
      engine = await EngineHarness.launch({ NODE_PATH: '', NODE_OPTIONS: '' }, { executable: join(installed, 'pulumi-resource-argosync'), cwd: installed });
      await engine.configure({ endpoint: runtime().url, token: secret(runtime().token!), insecureSkipVerify: true, namespace: 'team-a' });
    });
    afterAll(() => engine?.close());

    it('installs: no node_modules in reach of the plugin, which answers GetPluginInfo and GetSchema with the version of package.json', async () => {
      expect(nodeModulesInReach(installed)).toBeUndefined();
      expect(installed.startsWith(ROOT)).toBe(false);
      expect(await engine.pluginVersion()).toBe(VERSION);
      expect(JSON.parse(await engine.schema())).toMatchObject({ name: 'argosync', version: VERSION, functions: expect.any(Object) });
    });

    it('pulumi up: Check refuses a bad limit, then the limits of the program are created', async () => {
      expect((await engine.check('urn:pulumi:test::argosync-test::argosync:index:SemaphoreLimit::bad', { key: 'gpu', limit: 0 })).failures).toEqual([
        { property: 'limit', reason: 'must be a whole number of at least 1, got 0' },
      ]);
      expect((await engine.up(LIMIT, 'gpu', { key: 'gpu', limit: 2 })).entry).toMatchObject({ id: 'database/team-a/gpu', outputs: { lockName: 'team-a/Database/gpu', limit: 2 } });
      expect((await engine.up(LIMIT, 'nightly', { key: 'nightly', type: 'configmap', configMapName: 'team-a-limits', limit: 4 })).entry).toMatchObject({ id: 'configmap/team-a/team-a-limits/nightly' });
    });

    it('a change by hand (argosync sync update) shows as drift on pulumi refresh, and pulumi up puts the program\'s value back', async () => {
      const cli = runCli(['sync', 'update', 'gpu', '--type', 'database', '--limit', '5', '-n', 'team-a'], { ARGOSYNC_SERVER: runtime().url, ARGOSYNC_TOKEN: runtime().token!, ARGOSYNC_INSECURE_SKIP_VERIFY: 'true' });
      expect(await cli.exited).toBe(0);
      expect(await engine.refresh(LIMIT, 'gpu')).toMatchObject({ gone: false, drifted: true, entry: { inputs: { limit: 5 }, outputs: { limit: 5 } } });
      expect((await engine.up(LIMIT, 'gpu', { key: 'gpu', limit: 2 })).operation).toBe('update');
      expect((await api('GET', '/sync/team-a/gpu?type=1')).json).toMatchObject({ limit: 2 });
    });

    it('a limit made elsewhere: read by the data source, refused on create with the import command, taken over by pulumi import', async () => {
      await api('POST', '/sync/team-a', { type: 1, key: 'shared', limit: 3 });
      expect((await engine.invoke('argosync:index:getSemaphoreLimit', { key: 'shared' })).outputs).toMatchObject({ id: 'database/team-a/shared', limit: 3 });
      await expect(engine.up(LIMIT, 'shared', { key: 'shared', limit: 3 })).rejects.toThrow(
        'sync limit database/team-a/shared already exists; adopt it with: pulumi import argosync:index:SemaphoreLimit shared database/team-a/shared',
      );
      expect((await engine.import(LIMIT, 'shared', 'database/team-a/shared')).inputs).toEqual({ namespace: 'team-a', key: 'shared', type: 'database', limit: 3 });
      expect((await engine.up(LIMIT, 'shared', { key: 'shared', limit: 3 })).operation).toBe('same');
    });

    it('pulumi destroy deletes them', async () => {
      await engine.destroy();
      expect((await api('GET', '/sync/team-a')).json).toEqual({ items: [] });
    });
  });
});
