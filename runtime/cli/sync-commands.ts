import { Command } from 'commander';
import type { ApiClient } from '../client/api-client.js';
import { namespaceOf, outputOption, UsageError, withClient } from './client-context.js';
import { formatTable } from './table.js';

/** The sync limit as the API returns it (`type` 0 is omitted on the wire, as Argo). */
interface SyncLimitResponse {
  readonly type?: number;
  readonly namespace: string;
  readonly cmName?: string;
  readonly key: string;
  readonly limit: number;
}

type LimitType = 'configmap' | 'database';

interface SyncFlags {
  readonly type?: string;
  readonly limit?: string;
  readonly cmName?: string;
  readonly namespace: string;
  readonly output?: string;
}

/** `argosync sync create|get|update|delete KEY` and `sync list`, with Argo's flags, checks and output. */
export function syncCommand(client: () => ApiClient, write: (text: string) => void): Command {
  const sync = new Command('sync').description('manage sync limits');
  const withCommon = (command: Command, needsLimit: boolean): Command => {
    command
      .argument('<KEY>', 'limit key')
      .option('--type <type>', "type of sync limit: 'database' or 'configmap'")
      .option('--cm-name <name>', 'ConfigMap name (required when type is configmap)')
      .addOption(outputOption());
    if (needsLimit) command.option('--limit <n>', 'limit of the semaphore');
    return command;
  };

  const run = (verb: 'create' | 'get' | 'update' | 'delete') => async (key: string, flags: SyncFlags, command: Command) => {
    const namespace = namespaceOf(command);
    const type = parseType(flags.type);
    if (type === 'configmap' && !flags.cmName) throw new UsageError('--cm-name is required when type is configmap');
    const result = await withClient(client, (api) => callApi(api, verb, { key, namespace, type, cmName: flags.cmName, limit: parseLimit(verb, flags.limit) }));
    if (flags.output === 'json') {
      write(JSON.stringify(verb === 'delete' ? {} : result, null, 2));
      return;
    }
    const header = { create: 'Sync limit created', update: 'Sync limit updated', delete: 'Sync limit deleted', get: undefined }[verb];
    if (header) write(header);
    if (verb !== 'delete' && result) write(formatLimit(result));
  };

  sync.addCommand(withCommon(new Command('create').description('create a sync limit'), true).action(run('create')));
  sync.addCommand(withCommon(new Command('get').description('get a sync limit'), false).action(run('get')));
  sync.addCommand(withCommon(new Command('update').description('update a sync limit'), true).action(run('update')));
  sync.addCommand(withCommon(new Command('delete').description('delete a sync limit'), false).action(run('delete')));
  sync.addCommand(
    new Command('list')
      .description('list the sync limits of a namespace with holders and waiters')
      .addOption(outputOption())
      .action(async (flags: { output: string }, command: Command) => {
        const result = await withClient(client, (api) => api.send<{ items?: SyncLimitStatus[] }>('GET', `/api/v1/sync/${encodeURIComponent(namespaceOf(command))}`));
        write(flags.output === 'json' ? JSON.stringify(result, null, 2) : formatList(result.items ?? []));
      }),
  );
  return sync;
}

interface SyncLimitStatus extends SyncLimitResponse {
  readonly holders?: readonly unknown[];
  readonly waiting?: readonly unknown[];
}

function parseType(value: string | undefined): LimitType {
  const upper = value?.toUpperCase();
  if (upper === 'DATABASE') return 'database';
  if (upper === 'CONFIGMAP') return 'configmap';
  throw new UsageError("--type must be either 'database' or 'configmap'");
}

function parseLimit(verb: string, value: string | undefined): number | undefined {
  if (verb !== 'create' && verb !== 'update') return undefined;
  if (value === undefined) throw new UsageError('--limit is required');
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--limit must be an integer, got "${value}"`);
  return Number(value);
}

async function callApi(
  api: ApiClient,
  verb: 'create' | 'get' | 'update' | 'delete',
  request: { key: string; namespace: string; type: LimitType; cmName: string | undefined; limit: number | undefined },
): Promise<SyncLimitResponse | undefined> {
  const wireType = request.type === 'database' ? 1 : 0;
  const ns = encodeURIComponent(request.namespace);
  const key = encodeURIComponent(request.key);
  const query = new URLSearchParams({ type: request.type.toUpperCase(), ...(request.cmName ? { cmName: request.cmName } : {}) });
  const body = { type: wireType, key: request.key, limit: request.limit, ...(request.cmName ? { cmName: request.cmName } : {}) };
  try {
    switch (verb) {
      case 'create':
        return await api.send('POST', `/api/v1/sync/${ns}`, body);
      case 'get':
        return await api.send('GET', `/api/v1/sync/${ns}/${key}?${query}`);
      case 'update':
        return await api.send('PUT', `/api/v1/sync/${ns}/${key}`, body);
      case 'delete':
        await api.send('DELETE', `/api/v1/sync/${ns}/${key}?${query}`);
        return undefined;
    }
  } catch (error) {
    // Argo wraps RPC errors this way: "failed to create sync limit: <message>".
    throw new Error(`failed to ${verb} sync limit: ${(error as Error).message}`, { cause: error });
  }
}

function formatLimit(limit: SyncLimitResponse): string {
  const lines = [`Key: ${limit.key}`, `Type: ${limit.type === 1 ? 'database' : 'configmap'}`];
  if (limit.type !== 1) lines.push(`ConfigMap Name: ${limit.cmName ?? ''}`);
  lines.push(`Namespace: ${limit.namespace}`, `Limit: ${limit.limit}`);
  return lines.join('\n');
}

function formatList(items: readonly SyncLimitStatus[]): string {
  if (items.length === 0) return 'No sync limits found.';
  const rows = items.map((item) => [
    item.key,
    item.type === 1 ? 'database' : 'configmap',
    item.cmName ?? '',
    `${item.holders?.length ?? 0}/${item.limit}`,
    String(item.waiting?.length ?? 0),
  ]);
  return formatTable(['KEY', 'TYPE', 'CONFIGMAP', 'HELD', 'WAITING'], rows);
}
