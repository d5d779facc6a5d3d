import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { ApiClient } from '../client/api-client.js';
import { COMPLETED_PHASES, type NodeStatus, type Workflow } from '../controller/workflows/workflow.js';
import { namespaceOf, outputOption, UsageError, withClient } from './client-context.js';
import { formatTable } from './table.js';

interface WorkflowList {
  readonly items?: readonly Workflow[] | null;
}

type Write = (text: string) => void;

const WAIT_POLL_MS = 500;

const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/');

/** `argosync submit|list|get|delete|terminate` and `argosync archive list|get|delete` (SPEC §8). */
export function workflowCommands(client: () => ApiClient, write: Write): Command[] {
  const submit = new Command('submit')
    .description('submit a workflow manifest (YAML or JSON)')
    .argument('<FILE>', 'workflow manifest')
    .option('--wait', 'wait for the workflow to complete; exit 1 unless it succeeds')
    .addOption(outputOption())
    .action(async (file: string, flags: { wait?: boolean; output: string }, command: Command) => {
      const manifest = await readManifest(file);
      const namespace = manifest.metadata?.namespace ?? namespaceOf(command);
      await withClient(client, async (api) => {
        let workflow = await api.send<Workflow>('POST', `/api/v1/workflows/${path(namespace)}`, { workflow: manifest });
        if (flags.output !== 'json') write(describe(workflow));
        if (flags.wait) {
          workflow = await waitForCompletion(api, workflow, flags.output === 'json' ? () => undefined : write);
          if (flags.output !== 'json') write(describe(workflow));
        }
        if (flags.output === 'json') write(JSON.stringify(workflow, null, 2));
        if (flags.wait && workflow.status?.phase !== 'Succeeded') process.exitCode = 1;
      });
    });

  const list = new Command('list')
    .description('list workflows')
    .option('-l, --selector <selector>', 'label selector, e.g. team=a')
    .addOption(outputOption())
    .action(async (flags: { selector?: string; output: string }, command: Command) => {
      const query = new URLSearchParams(flags.selector ? { 'listOptions.labelSelector': flags.selector } : {});
      const result = await withClient(client, (api) => api.send<WorkflowList>('GET', `/api/v1/workflows/${path(namespaceOf(command))}?${query}`));
      write(flags.output === 'json' ? JSON.stringify(result, null, 2) : table(['NAME', 'STATUS', 'AGE', 'PRIORITY', 'MESSAGE'], (result.items ?? []).map(row)));
    });

  const get = new Command('get')
    .description('show a workflow with its nodes and synchronization status')
    .argument('<NAME>')
    .addOption(outputOption())
    .action(async (name: string, flags: { output: string }, command: Command) => {
      const workflow = await withClient(client, (api) => api.send<Workflow>('GET', `/api/v1/workflows/${path(namespaceOf(command), name)}`));
      write(flags.output === 'json' ? JSON.stringify(workflow, null, 2) : `${describe(workflow)}\n\n${nodeTree(workflow)}`);
    });

  const remove = new Command('delete')
    .description('delete a workflow (its locks are released)')
    .argument('<NAME>')
    .action(async (name: string, _flags: unknown, command: Command) => {
      await withClient(client, (api) => api.send('DELETE', `/api/v1/workflows/${path(namespaceOf(command), name)}`));
      write(`Workflow '${name}' deleted`);
    });

  const terminate = new Command('terminate')
    .description('stop a workflow now; a waiting workflow leaves its queues')
    .argument('<NAME>')
    .action(async (name: string, _flags: unknown, command: Command) => {
      await withClient(client, (api) => api.send('PUT', `/api/v1/workflows/${path(namespaceOf(command), name, 'terminate')}`));
      write(`workflow ${name} terminated`);
    });

  return [submit, list, get, remove, terminate, archiveCommand(client, write)];
}

function archiveCommand(client: () => ApiClient, write: Write): Command {
  const archive = new Command('archive').description('archived workflows');
  archive.addCommand(
    new Command('list')
      .description('list archived workflows')
      .option('-l, --selector <selector>', 'label selector')
      .addOption(outputOption())
      .action(async (flags: { selector?: string; output: string }, command: Command) => {
        const query = new URLSearchParams({ namespace: namespaceOf(command), ...(flags.selector ? { 'listOptions.labelSelector': flags.selector } : {}) });
        const result = await withClient(client, (api) => api.send<WorkflowList>('GET', `/api/v1/archived-workflows?${query}`));
        const rows = (result.items ?? []).map((workflow) => [workflow.metadata.namespace, workflow.metadata.name, workflow.status?.phase ?? '', workflow.metadata.uid]);
        write(flags.output === 'json' ? JSON.stringify(result, null, 2) : table(['NAMESPACE', 'NAME', 'STATUS', 'UID'], rows));
      }),
  );
  archive.addCommand(
    new Command('get')
      .description('show an archived workflow')
      .argument('<UID>')
      .addOption(outputOption())
      .action(async (uid: string, flags: { output: string }) => {
        const workflow = await withClient(client, (api) => api.send<Workflow>('GET', `/api/v1/archived-workflows/${path(uid)}`));
        write(flags.output === 'json' ? JSON.stringify(workflow, null, 2) : `${describe(workflow)}\n\n${nodeTree(workflow)}`);
      }),
  );
  archive.addCommand(
    new Command('delete')
      .description('delete an archived workflow')
      .argument('<UID>')
      .action(async (uid: string) => {
        await withClient(client, (api) => api.send('DELETE', `/api/v1/archived-workflows/${path(uid)}`));
        write(`Archived workflow '${uid}' deleted`);
      }),
  );
  return archive;
}

async function readManifest(file: string): Promise<Workflow> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let manifest: unknown;
  try {
    manifest = parseYaml(text);
  } catch (error) {
    throw new UsageError(`${file} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) throw new UsageError(`${file} does not hold a workflow manifest`);
  return manifest as Workflow;
}

/** Polls until the workflow completes, printing each phase change (and the waiting message) as it happens. */
async function waitForCompletion(api: ApiClient, submitted: Workflow, write: Write): Promise<Workflow> {
  const { namespace, name } = submitted.metadata;
  let workflow = submitted;
  let last = '';
  for (;;) {
    const phase = workflow.status?.phase || 'Pending';
    const line = `${name}: ${phase}${workflow.status?.message ? ` (${workflow.status.message})` : ''}`;
    if (line !== last) write(line);
    last = line;
    if (COMPLETED_PHASES.has(phase)) return workflow;
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    workflow = await api.send<Workflow>('GET', `/api/v1/workflows/${path(namespace, name)}`);
  }
}

function describe(workflow: Workflow): string {
  const status = workflow.status;
  const lines: [string, string | undefined][] = [
    ['Name:', workflow.metadata.name],
    ['Namespace:', workflow.metadata.namespace],
    ['Status:', status?.phase || 'Pending'],
    ['Message:', status?.message],
    ['Priority:', String(workflow.spec.priority ?? 0)],
    ['Created:', workflow.metadata.creationTimestamp],
    ['Started:', status?.startedAt],
    ['Finished:', status?.finishedAt],
  ];
  for (const holding of status?.synchronization?.semaphore?.holding ?? []) lines.push(['Holding:', `${holding.semaphore} (${holding.holders.join(', ')})`]);
  for (const holding of status?.synchronization?.mutex?.holding ?? []) lines.push(['Holding:', `${holding.mutex} (${holding.holder})`]);
  return lines
    .filter((line): line is [string, string] => line[1] !== undefined && line[1] !== '')
    .map(([label, value]) => `${label.padEnd(16)}${value}`)
    .join('\n');
}

function row(workflow: Workflow): string[] {
  const created = Date.parse(workflow.metadata.creationTimestamp);
  return [workflow.metadata.name, workflow.status?.phase || 'Pending', age(Date.now() - created), String(workflow.spec.priority ?? 0), workflow.status?.message ?? ''];
}

function age(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** The node tree from the root, indented by depth: `STEP  PHASE  MESSAGE`. */
function nodeTree(workflow: Workflow): string {
  const nodes = workflow.status?.nodes ?? {};
  const root = nodes[workflow.metadata.name];
  if (!root) return 'No nodes yet.';
  const rows: string[][] = [];
  const visit = (node: NodeStatus, depth: number) => {
    rows.push([`${'  '.repeat(depth)}${depth === 0 ? node.name : node.displayName}`, node.templateName, node.phase, node.message ?? '']);
    for (const child of node.children ?? []) if (nodes[child]) visit(nodes[child], depth + 1);
  };
  visit(root, 0);
  return table(['STEP', 'TEMPLATE', 'PHASE', 'MESSAGE'], rows);
}

function table(header: string[], rows: string[][]): string {
  return rows.length === 0 ? 'No workflows found.' : formatTable(header, rows);
}
