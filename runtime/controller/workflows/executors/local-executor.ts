import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Executor, NodeResult, NodeRun } from './executor.js';
import { forgetProcess, killGroup, recordProcess, STOP_GRACE_MS, stopOrphan } from './process-record.js';

const MAX_RESULT_BYTES = 256 * 1024;
/** A uid or node ID used as one path segment: no separator, no `..`, nothing a request could steer. */
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const DEADLINE_MESSAGE = 'Pod was active on the node longer than the specified deadline';
/** `<root>/<uid>/<WORKFLOW_FILE>` holds `<namespace>/<name>`, so a workflow gone from the store is still found. */
const WORKFLOW_FILE = 'workflow';

/**
 * Runs leaf nodes as child processes of the runtime (SPEC §6): the container's command and args (or the
 * script's source, as a file given to its command, `sh` by default), with the template's env; the image is
 * ignored. Each node runs in its own process group so that stopping it stops its children too. Each node's
 * directory, `<root>/<workflow uid>/<node ID>`, records its process, so that a node still running from a runtime
 * that was killed is stopped before the node runs again, and never runs twice at once. Paths come from the uid
 * the store generated, never from a namespace or name a request chose (SPEC §7.6).
 */
export class LocalExecutor implements Executor {
  readonly name = 'local';
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  async run(node: NodeRun, signal: AbortSignal): Promise<NodeResult> {
    const directory = nodeDirectory(this.#root, node);
    if (directory === undefined) return { phase: 'Error', message: `the local executor refuses workflow uid ${JSON.stringify(node.workflowUid)}: not a plain name` };
    await mkdir(directory, { recursive: true, mode: 0o700 });
    await writeFile(join(this.#root, node.workflowUid, WORKFLOW_FILE), `${node.namespace}/${node.workflowName}`, { mode: 0o600 });
    await stopOrphan(directory);
    let argv = [...(node.container.command ?? []), ...(node.container.args ?? [])];
    if (node.source !== undefined) {
      const script = join(directory, 'script');
      await writeFile(script, node.source, { mode: 0o700 });
      argv = [...(node.container.command ?? ['sh']), script];
    }
    if (argv.length === 0) return { phase: 'Error', message: 'the local executor needs container.command: it cannot run an image entrypoint' };
    if (signal.aborted) return { phase: 'Failed', message: 'terminated' };
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ARGO_NODE_ID: node.nodeId, ARGO_WORKFLOW_NAME: node.workflowName };
    for (const variable of node.container.env ?? []) env[variable.name] = variable.value ?? '';
    return new Promise<NodeResult>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { cwd: node.container.workingDir ?? directory, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const recorded = child.pid === undefined ? Promise.resolve() : recordProcess(directory, child.pid);
      let stdout = '';
      let stderr = '';
      let stopReason: string | undefined;
      child.stdout.on('data', (chunk: Buffer) => {
        if (stdout.length < MAX_RESULT_BYTES) stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4096)));
      const stop = (reason: string) => {
        if (stopReason !== undefined || child.exitCode !== null) return;
        stopReason = reason;
        killGroup(child.pid, 'SIGTERM');
        setTimeout(() => killGroup(child.pid, 'SIGKILL'), STOP_GRACE_MS).unref();
      };
      const onAbort = () => stop('terminated');
      signal.addEventListener('abort', onAbort, { once: true });
      const deadline = node.deadlineSeconds === undefined ? undefined : setTimeout(() => stop(DEADLINE_MESSAGE), node.deadlineSeconds * 1000);
      const finish = (result: NodeResult) => {
        signal.removeEventListener('abort', onAbort);
        if (deadline) clearTimeout(deadline);
        void recorded.then(() => forgetProcess(directory)).finally(() => resolve(result));
      };
      child.on('error', (error) => finish({ phase: 'Error', message: `cannot run ${JSON.stringify(argv[0])}: ${error.message}` }));
      child.on('close', (code, exitSignal) => {
        const result = stdout.slice(0, MAX_RESULT_BYTES).trim();
        if (stopReason !== undefined) return finish({ phase: 'Failed', message: stopReason, ...(code === null ? {} : { exitCode: code }) });
        if (code === 0) return finish({ phase: 'Succeeded', exitCode: 0, result });
        const tail = stderr.trim().split('\n').at(-1);
        const message = code === null ? `Error (killed by ${exitSignal})` : `Error (exit code ${code})`;
        finish({ phase: 'Failed', message: tail && code === null ? `${message}: ${tail}` : message, ...(code === null ? {} : { exitCode: code }), result });
      });
    });
  }

  /**
   * Without the uid (the workflow is gone from the store), the directories whose workflow file names it: found
   * on disk rather than remembered, so nothing grows in memory and a restart forgets nothing.
   */
  async cleanup(namespace: string, workflowName: string, workflowUid: string | undefined): Promise<void> {
    const uids = workflowUid === undefined ? await this.#uidsOf(`${namespace}/${workflowName}`) : [workflowUid];
    for (const uid of uids) if (SAFE_SEGMENT.test(uid)) await rm(join(this.#root, uid), { recursive: true, force: true });
  }

  async #uidsOf(workflow: string): Promise<string[]> {
    const entries = await readdir(this.#root).catch(() => [] as string[]);
    const owners = await Promise.all(entries.map((uid) => readFile(join(this.#root, uid, WORKFLOW_FILE), 'utf8').catch(() => undefined)));
    return entries.filter((_uid, index) => owners[index] === workflow);
  }
}

/**
 * `<root>/<uid>/<node ID>`, or undefined when the uid is not a plain path segment. A node ID that is not one
 * (too long for a file name) is replaced by its SHA-256, which is just as stable across restarts.
 */
export function nodeDirectory(root: string, node: Pick<NodeRun, 'workflowUid' | 'nodeId'>): string | undefined {
  if (!SAFE_SEGMENT.test(node.workflowUid)) return undefined;
  const nodeSegment = SAFE_SEGMENT.test(node.nodeId) ? node.nodeId : createHash('sha256').update(node.nodeId).digest('hex');
  return join(root, node.workflowUid, nodeSegment);
}
