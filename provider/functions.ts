import type { ApiClient } from '../runtime/client/api-client.js';
import type { CheckFailure } from './resource-handler.js';
import type { ProviderConfig } from './provider-config.js';
import { UNKNOWN } from './resource-handler.js';
import { namespaceProblem, outputsOf, SemaphoreLimitHandler, type LimitStatus } from './resources/semaphore-limit.js';

/** What an Invoke answers: the function's result, or the arguments that are wrong. */
export type InvokeResult = { readonly outputs: Record<string, unknown>; readonly failures?: undefined } | { readonly outputs?: undefined; readonly failures: readonly CheckFailure[] };

type DataSource = (client: ApiClient, config: ProviderConfig, args: Record<string, unknown>) => Promise<InvokeResult>;

/** A limit as `GET /api/v1/sync/{namespace}` lists it. */
interface ListedLimit extends LimitStatus {
  readonly namespace: string;
  readonly key: string;
  readonly type?: number;
  readonly cmName?: string;
}

const limitHandler = (client: ApiClient, config: ProviderConfig) => new SemaphoreLimitHandler(client, { defaultNamespace: config.namespace, adoptExisting: false });

/** The data sources (SPEC §9 "Functions"), by token; the schema test checks them against schema.json. */
export const FUNCTIONS: Readonly<Record<string, DataSource>> = {
  /** One limit by its place (as a SemaphoreLimit names it), with its lock name and live counts. */
  'argosync:index:getSemaphoreLimit': async (client, config, args) => {
    const handler = limitHandler(client, config);
    // The same names and defaults as the resource; the size is what is being read.
    const { inputs, failures } = handler.check({ ...args, limit: UNKNOWN });
    if (failures.length > 0) return { failures };
    const id = handler.idOf({ ...inputs, limit: 0 })!;
    const found = await handler.read(id);
    if (!found) throw new Error(`getSemaphoreLimit: sync limit ${id} does not exist (namespace ${inputs.namespace as string}, key ${inputs.key as string})`);
    return { outputs: { id, ...found.outputs } };
  },
  /** Every limit of a namespace, ConfigMap and database ones. */
  'argosync:index:getSemaphoreLimits': async (client, config, args) => {
    const namespace = args.namespace ?? config.namespace;
    if (typeof namespace !== 'string') return { failures: [{ property: 'namespace', reason: `must be a string, got ${JSON.stringify(namespace)}` }] };
    const problem = namespaceProblem(namespace);
    if (problem) return { failures: [{ property: 'namespace', reason: problem }] };
    const { items } = await client.send<{ items: ListedLimit[] }>('GET', `/api/v1/sync/${encodeURIComponent(namespace)}`);
    const limits = items.map((item) =>
      outputsOf(item.type === 1 ? { namespace, key: item.key, type: 'database', limit: item.limit } : { namespace, key: item.key, type: 'configmap', configMapName: item.cmName!, limit: item.limit }, item),
    );
    return { outputs: { namespace, limits } };
  },
  /** The controllers registered on the runtime's sync database, with their last heartbeat. */
  'argosync:index:getControllers': async (client) => {
    const { controllers } = await client.send<{ controllers?: { name: string; lastHeartbeat: string | null }[] }>('GET', '/api/v1/config/synchronization');
    return { outputs: { controllers: (controllers ?? []).map(({ name, lastHeartbeat }) => ({ name, ...(lastHeartbeat ? { lastHeartbeat } : {}) })) } };
  },
};
