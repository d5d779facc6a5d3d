import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliProcess } from '../support/cli-process.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/workflows/', import.meta.url));
const TOKEN = 'workflow-cli-token';

describe('argosync submit --wait runs every example of examples/workflows on the runtime of argosync up', () => {
  let home: string;
  let runtime: CliProcess;
  let env: NodeJS.ProcessEnv;
  const cli = async (args: string[]) => {
    const process = runCli(args, env);
    return { code: await process.exited, stdout: process.stdout(), stderr: process.stderr() };
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'argosync-examples-'));
    runtime = runCli(['up', '--port', '0', '--home', home], { ARGOSYNC_ADMIN_TOKEN: TOKEN });
    const [, url] = (await runtime.line(/^argosync listening on (https:\/\/127\.0\.0\.1:\d+\/)$/)) as unknown as [string, string];
    env = { ARGOSYNC_SERVER: url.replace(/\/$/, ''), ARGOSYNC_TOKEN: TOKEN, ARGOSYNC_INSECURE_SKIP_VERIFY: 'true' };
    // gpu-semaphore.yaml says to create its limit first.
    expect((await cli(['sync', 'create', 'gpu', '--type', 'database', '--limit', '2', '-n', 'default'])).code).toBe(0);
  });
  afterAll(async () => {
    runtime.child.kill('SIGTERM');
    await runtime.exited;
    await rm(home, { recursive: true, force: true });
  });

  it('submits, waits, and reports Succeeded for each example', async () => {
    const examples = (await readdir(EXAMPLES)).filter((file) => file.endsWith('.yaml')).sort();
    expect(examples).toEqual(['dag-mutex.yaml', 'gpu-semaphore.yaml', 'hello.yaml', 'steps.yaml']);
    const results = await Promise.all(examples.map((file) => cli(['submit', join(EXAMPLES, file), '--wait'])));
    for (const [index, result] of results.entries()) {
      expect(result.stderr, examples[index]).toBe('');
      expect(result.code, examples[index]).toBe(0);
      expect(result.stdout).toMatch(/: Succeeded\n/);
      expect(result.stdout).toMatch(/^Name:\s+\S+-[a-z0-9]{5}\nNamespace:\s+default\nStatus:\s+Pending/);
    }

    const list = await cli(['list']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+AGE\s+PRIORITY\s+MESSAGE/);
    expect(list.stdout.match(/Succeeded/g)).toHaveLength(4);

    const hello = results[examples.indexOf('hello.yaml')]!.stdout.match(/^Name:\s+(\S+)/)![1]!;
    const get = await cli(['get', hello, '-o', 'json']);
    expect(JSON.parse(get.stdout)).toMatchObject({ status: { phase: 'Succeeded', nodes: { [hello]: { outputs: { result: 'hello from argosync' } } } } });
    const tree = await cli(['get', hello]);
    expect(tree.stdout).toContain('Succeeded');
    expect((await cli(['delete', hello])).code).toBe(0);
    const gone = await cli(['get', hello]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`argosync: workflows.argoproj.io "${hello}" not found\n`);
  }, 120_000);
});
