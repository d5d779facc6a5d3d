import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeRun } from '../../runtime/controller/workflows/executors/executor.js';
import { LocalExecutor, nodeDirectory } from '../../runtime/controller/workflows/executors/local-executor.js';
import { recordProcess } from '../../runtime/controller/workflows/executors/process-record.js';

describe('the local executor runs leaf nodes as child processes', () => {
  let root: string;
  let executor: LocalExecutor;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'argosync-local-'));
    executor = new LocalExecutor(root);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  let sequence = 0;
  const node = (container: NodeRun['container'], extra: Partial<NodeRun> = {}): NodeRun => ({
    namespace: 'team-a',
    workflowName: 'wf',
    workflowUid: '8a5c2a4e-4f1e-4d6b-9a55-0c3f5b1d2e7f',
    nodeId: `wf-${(sequence += 1)}`,
    container,
    ...extra,
  });
  const run = (target: NodeRun, signal = new AbortController().signal) => executor.run(target, signal);

  it("captures trimmed stdout as the result and passes only the template's env (plus PATH and HOME)", async () => {
    process.env.ARGOSYNC_SECRET_OF_THE_CONTROLLER = 'must-not-leak';
    const result = await run(node({ image: 'busybox', command: ['sh', '-c'], args: ['echo "$GREETING from $ARGO_WORKFLOW_NAME"; echo "[${ARGOSYNC_SECRET_OF_THE_CONTROLLER:-}]"'], env: [{ name: 'GREETING', value: 'hello' }] }));
    delete process.env.ARGOSYNC_SECRET_OF_THE_CONTROLLER;
    expect(result).toEqual({ phase: 'Succeeded', exitCode: 0, result: 'hello from wf\n[]' });
  });

  it('runs a script template with its command and the source as a file', async () => {
    expect(await run(node({ image: 'python:3', command: ['sh'] }, { source: 'x=40\necho $((x + 2))\n' }))).toMatchObject({ phase: 'Succeeded', result: '42' });
    expect(await run(node({ image: 'python:3' }, { source: 'echo default shell' }))).toMatchObject({ phase: 'Succeeded', result: 'default shell' });
  });

  it("fails with Argo's exit-code message and keeps the output", async () => {
    expect(await run(node({ image: 'busybox', command: ['sh', '-c', 'echo partial; exit 3'] }))).toEqual({ phase: 'Failed', message: 'Error (exit code 3)', exitCode: 3, result: 'partial' });
  });

  it('reports a missing command with what went wrong, and a template without a command as unsupported', async () => {
    const missing = await run(node({ image: 'busybox', command: ['/no/such/binary'] }));
    expect(missing.phase).toBe('Error');
    expect(missing.message).toMatch(/^cannot run "\/no\/such\/binary": spawn \/no\/such\/binary ENOENT/);
    expect(await run(node({ image: 'busybox' }))).toEqual({ phase: 'Error', message: 'the local executor needs container.command: it cannot run an image entrypoint' });
  });

  it("stops a node at its deadline with Argo's message, killing its whole process group", async () => {
    const marker = join(root, 'grandchild-survived');
    const target = node({ image: 'busybox', command: ['sh', '-c', `(sleep 1.5; touch ${marker}) & sleep 30`] }, { deadlineSeconds: 0.3 });
    const result = await run(target);
    expect(result).toMatchObject({ phase: 'Failed', message: 'Pod was active on the node longer than the specified deadline' });
    await new Promise((resolve) => setTimeout(resolve, 1_700)); // the grandchild's own timer: no event to await
    await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
  });

  it('stops a node when aborted (termination) and cleans up its working directory', async () => {
    const abort = new AbortController();
    const running = run(node({ image: 'busybox', command: ['sleep', '30'] }), abort.signal);
    setImmediate(() => abort.abort());
    expect(await running).toMatchObject({ phase: 'Failed', message: 'terminated' });
    await executor.cleanup('team-a', 'wf', undefined);
    await expect(readFile(join(root, '8a5c2a4e-4f1e-4d6b-9a55-0c3f5b1d2e7f'))).rejects.toThrow(/ENOENT/);
  });

  it('keeps nothing in memory per workflow: after a restart a workflow gone from the store still has its directory removed, and only its own', async () => {
    const uids = Array.from({ length: 20 }, (_, i) => `0f0e0d0c-0000-4000-8000-${String(i).padStart(12, '0')}`);
    for (const [i, workflowUid] of uids.entries()) {
      expect(await run(node({ image: 'busybox', command: ['true'] }, { workflowName: `many-${i}`, workflowUid }))).toMatchObject({ phase: 'Succeeded' });
    }
    const restarted = new LocalExecutor(root);
    await restarted.cleanup('team-a', 'many-3', undefined);
    await expect(readFile(join(root, uids[3]!))).rejects.toThrow(/ENOENT/);
    await expect(readFile(join(root, uids[4]!, 'workflow'), 'utf8')).resolves.toBe('team-a/many-4');
    await restarted.cleanup('team-b', 'many-4', undefined);
    await expect(readFile(join(root, uids[4]!, 'workflow'), 'utf8')).resolves.toBe('team-a/many-4');
    for (const [i, workflowUid] of uids.entries()) await executor.cleanup('team-a', `many-${i}`, workflowUid);
  });

  it('builds paths from the uid only: a namespace or name with ../ never reaches the file system (SPEC §7.6)', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'argosync-victim-'));
    await mkdir(join(outside, 'victim', 'keep'), { recursive: true });
    const traversal = node({ image: 'busybox', command: ['true'] }, { namespace: relative(root, outside), workflowName: 'victim' });
    expect(await run(traversal)).toMatchObject({ phase: 'Succeeded' });
    await executor.cleanup(traversal.namespace, traversal.workflowName, undefined);
    await expect(readFile(join(outside, 'victim', 'keep'))).rejects.toThrow(/EISDIR/); // still there
    expect(await run(node({ image: 'busybox', command: ['true'] }, { workflowUid: '../../etc' }))).toMatchObject({ phase: 'Error' });
    await rm(outside, { recursive: true, force: true });
  });

  describe('after the runtime that ran a node was killed', () => {
    /** A process in its own group, as the executor starts them, recorded in the node's directory. */
    const orphanOf = async (target: NodeRun, record: (directory: string, pid: number) => Promise<void>) => {
      const directory = nodeDirectory(root, target)!;
      await mkdir(directory, { recursive: true });
      const orphan = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => orphan.once('exit', (_code, signal) => resolve(signal)));
      await record(directory, orphan.pid!);
      return { orphan, exited, directory };
    };

    it('stops the node still running from before, then runs it once, and forgets the record when done', async () => {
      const target = node({ image: 'busybox', command: ['echo', 'again'] });
      const { exited, directory } = await orphanOf(target, recordProcess);
      expect(await run(target)).toMatchObject({ phase: 'Succeeded', result: 'again' });
      expect(await exited).toBe('SIGTERM');
      await expect(readFile(join(directory, 'pid'))).rejects.toThrow(/ENOENT/);
    });

    it('leaves alone a process that only reuses the recorded pid', async () => {
      const target = node({ image: 'busybox', command: ['true'] });
      const { orphan } = await orphanOf(target, (directory, pid) => writeFile(join(directory, 'pid'), `${pid} 1\n`));
      expect(await run(target)).toMatchObject({ phase: 'Succeeded' });
      expect(orphan.exitCode).toBeNull();
      expect(process.kill(orphan.pid!, 0)).toBe(true);
      orphan.kill('SIGKILL');
    });
  });
});
