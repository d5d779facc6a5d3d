import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEngine } from '../support/fake-engine.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const { version: VERSION } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };

/** A user's program, as the README shows it: an explicit provider, two limits, an output, a data source. */
const PROGRAM = `import * as pulumi from '@pulumi/pulumi';
import * as argosync from '@argosync/pulumi';

const provider = new argosync.Provider('team-a', { endpoint: 'https://argosync.example:2746', namespace: 'team-a', token: 'not-a-real-token' });
const gpu = new argosync.SemaphoreLimit('gpu', { key: 'gpu', limit: 2 }, { provider });
new argosync.SemaphoreLimit('nightly', { key: 'nightly', type: 'configmap', configMapName: 'team-a-limits', limit: pulumi.output(4) }, { provider, dependsOn: [gpu] });
export const gpuLock: pulumi.Output<string> = gpu.lockName;
export const teamLimits = argosync.getSemaphoreLimitsOutput({ namespace: 'team-a' }, { provider }).limits;
`;

describe('@argosync/pulumi as a user installs it', () => {
  let program: string;
  let tarball: string;
  beforeAll(async () => {
    program = await mkdtemp(join(tmpdir(), 'argosync-sdk-program-'));
    // The package as npm run build makes it.
    await run(process.execPath, [TSC, '-p', 'sdk/nodejs/tsconfig.json'], { cwd: ROOT });
    await run(process.execPath, ['scripts/sdk-manifest.js'], { cwd: ROOT });
    const { stdout } = await run('npm', ['pack', './dist/sdk/nodejs', '--pack-destination', program, '--json'], { cwd: ROOT });
    tarball = (JSON.parse(stdout) as { filename: string }[])[0]!.filename;
  }, 180_000);
  afterAll(() => rm(program, { recursive: true, force: true }));

  it('packs compiled JavaScript, type declarations and a manifest with the version and @pulumi/pulumi as a peer', async () => {
    const { stdout } = await run('tar', ['-tzf', join(program, tarball)]);
    const files = stdout.trim().split('\n').sort();
    expect(files).toEqual(expect.arrayContaining(['package/package.json', 'package/index.js', 'package/index.d.ts', 'package/semaphoreLimit.js', 'package/getSemaphoreLimit.d.ts']));
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    expect(tarball).toBe(`argosync-pulumi-${VERSION}.tgz`);
    const { stdout: manifest } = await run('tar', ['-xzOf', join(program, tarball), 'package/package.json']);
    expect(JSON.parse(manifest)).toMatchObject({ name: '@argosync/pulumi', version: VERSION, peerDependencies: { '@pulumi/pulumi': expect.any(String) }, pulumi: { resource: true, name: 'argosync', version: VERSION } });
  });

  it('installs next to @pulumi/pulumi, type-checks a program, and the program registers its resources with the engine', async () => {
    // @pulumi/pulumi is this checkout's (a link, so nothing is fetched); the SDK comes from the tarball alone.
    await writeFile(
      join(program, 'package.json'),
      JSON.stringify({ name: 'limits', private: true, type: 'module', dependencies: { '@argosync/pulumi': `file:./${tarball}`, '@pulumi/pulumi': `file:${join(ROOT, 'node_modules/@pulumi/pulumi')}` } }),
    );
    await writeFile(join(program, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', strict: true, outDir: 'bin', types: [] }, include: ['index.ts'] }));
    await writeFile(join(program, 'index.ts'), PROGRAM);
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'], { cwd: program });
    await run(process.execPath, [TSC, '-p', '.'], { cwd: program });

    const engine = await FakeEngine.start('limits', 'dev');
    try {
      // As the Node.js language host runs a program: @pulumi/pulumi's `run` with the monitor's address.
      const runner = join(program, 'node_modules/@pulumi/pulumi/cmd/run');
      const address = engine.address;
      const child = spawn(process.execPath, [runner, `--monitor=${address}`, `--engine=${address}`, '--project=limits', '--stack=dev', `--pwd=${program}`, join(program, 'bin/index.js')], { stdio: ['ignore', 'inherit', 'inherit'] });
      expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
      const provider = engine.find('pulumi:providers:argosync', 'team-a');
      expect(provider.inputs).toMatchObject({ endpoint: 'https://argosync.example:2746', namespace: 'team-a', token: { value: 'not-a-real-token' } });
      const gpu = engine.find('argosync:index:SemaphoreLimit', 'gpu');
      expect(gpu).toMatchObject({ custom: true, inputs: { key: 'gpu', limit: 2 }, provider: `${provider.urn}::team-a-id`, version: VERSION });
      expect(engine.find('argosync:index:SemaphoreLimit', 'nightly')).toMatchObject({ inputs: { key: 'nightly', type: 'configmap', configMapName: 'team-a-limits', limit: 4 }, dependencies: [gpu.urn] });
      expect(engine.invokes).toEqual([{ token: 'argosync:index:getSemaphoreLimits', args: { namespace: 'team-a' }, version: VERSION }]);
    } finally {
      engine.close();
    }
  }, 240_000);
});
