import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { InvalidArgumentError, NotFoundError } from '../../errors.js';
import type { LockSnapshot } from '../../controller/sync/lock.js';
import type { LockIdentity } from '../../controller/sync/lock-name.js';
import { requirePermission } from '../auth/require-permission.js';
import { checkConfigMapRef, checkDatabaseKey, checkNamespace } from '../request-names.js';
import type { SyncAudit } from '../sync-limits/sync-audit.js';
import type { SyncEvents } from '../sync-limits/sync-events.js';
import { parseLimitType, toWire, type SyncLimit, type SyncLimitRef, type SyncLimitStorage, type SyncLimitType } from '../sync-limits/sync-limit.js';

export interface SyncLimitRoutesOptions {
  readonly configMapLimits: SyncLimitStorage;
  /** Undefined unless `synchronization.enableAPI` (Argo: `unsupported sync config type: DATABASE`); follows the sync database in use. */
  readonly databaseLimits?: () => SyncLimitStorage | undefined;
  readonly audit: SyncAudit;
  /** Where limit writes are announced and `GET /sync-events` streams from. */
  readonly events: SyncEvents;
  /** Live holders and waiters of a lock, when the controller runs in this process. */
  readonly snapshot?: (identity: LockIdentity) => Promise<LockSnapshot>;
}

const INT32 = { type: 'integer', minimum: -2147483648, maximum: 2147483647 } as const;
const TYPE = { type: ['integer', 'string'] } as const;
const NAME = { type: 'string', maxLength: 253 } as const;
const namespaceParams = { type: 'object', required: ['namespace'], properties: { namespace: { type: 'string' } } } as const;
const keyParams = { type: 'object', required: ['namespace', 'key'], properties: { namespace: { type: 'string' }, key: { type: 'string' } } } as const;
const refQuery = { type: 'object', additionalProperties: false, properties: { type: { type: 'string' }, cmName: NAME } } as const;
const limitBody = {
  type: 'object',
  additionalProperties: false,
  properties: { type: TYPE, namespace: { type: 'string' }, cmName: NAME, key: { type: 'string', maxLength: 253 }, limit: INT32 },
} as const;

interface LimitBody {
  readonly type?: number | string;
  readonly cmName?: string;
  readonly key?: string;
  readonly limit?: number;
}

type Verb = 'create' | 'get' | 'update' | 'delete' | 'list';

/** SPEC §7.2: Argo's sync limits API for ConfigMap and database limits, plus list, status and audit. */
export const syncLimitRoutes: FastifyPluginAsync<SyncLimitRoutesOptions> = async (app, options) => {
  const storageFor = (type: SyncLimitType): SyncLimitStorage => {
    const storage = type === 'DATABASE' ? options.databaseLimits?.() : options.configMapLimits;
    if (!storage) throw new InvalidArgumentError(`unsupported sync config type: ${type}`);
    return storage;
  };
  /** ConfigMap limits need the ConfigMap verb (delete needs update); database limits the verb on workflows (argo-reference §6.3, §6.4). */
  const authorize = (request: FastifyRequest, verb: Verb, type: SyncLimitType, namespace: string) =>
    type === 'DATABASE'
      ? requirePermission(request, { verb, resource: 'workflows', group: 'argoproj.io', namespace }, 'database sync limit')
      : requirePermission(request, { verb: verb === 'delete' ? 'update' : verb, resource: 'configmaps', namespace });
  const actor = (request: FastifyRequest) => request.identity?.subject ?? 'unknown';
  const changed = (limit: SyncLimitRef) =>
    options.events.publish({ namespace: limit.namespace, lock: limit.type === 'DATABASE' ? `${limit.namespace}/Database/${limit.key}` : `${limit.namespace}/ConfigMap/${limit.cmName}/${limit.key}`, reason: 'limit' });

  app.post<{ Params: { namespace: string }; Body: LimitBody }>('/sync/:namespace', { schema: { params: namespaceParams, body: limitBody } }, async (request) => {
    const limit = limitFrom(request.params.namespace, request.body.key, request.body);
    await authorize(request, 'create', limit.type, limit.namespace);
    const storage = storageFor(limit.type);
    const created = await options.audit.audited(actor(request), 'create', limit, async (recordBefore) => {
      await recordBefore(undefined);
      return storage.create(limit);
    });
    changed(created);
    return toWire(created);
  });

  app.get<{ Params: { namespace: string; key: string }; Querystring: { type?: string; cmName?: string } }>(
    '/sync/:namespace/:key',
    { schema: { params: keyParams, querystring: refQuery } },
    async (request) => {
      const ref = refFrom(request.params.namespace, request.params.key, request.query);
      await authorize(request, 'get', ref.type, ref.namespace);
      return toWire(await storageFor(ref.type).get(ref));
    },
  );

  app.put<{ Params: { namespace: string; key: string }; Body: LimitBody }>(
    '/sync/:namespace/:key',
    { schema: { params: keyParams, body: limitBody } },
    async (request) => {
      const limit = limitFrom(request.params.namespace, request.params.key, request.body);
      await authorize(request, 'update', limit.type, limit.namespace);
      const storage = storageFor(limit.type);
      // One read, inside the storage: it gives the audit its old value before anything is written.
      const updated = await options.audit.audited(actor(request), 'update', limit, (recordBefore) => storage.update(limit, recordBefore));
      changed(updated);
      return toWire(updated);
    },
  );

  app.delete<{ Params: { namespace: string; key: string }; Querystring: { type?: string; cmName?: string } }>(
    '/sync/:namespace/:key',
    { schema: { params: keyParams, querystring: refQuery } },
    async (request) => {
      const ref = refFrom(request.params.namespace, request.params.key, request.query);
      await authorize(request, 'delete', ref.type, ref.namespace);
      const storage = storageFor(ref.type);
      // No limit there: the delete succeeds or 404s as Argo's does, and nothing is audited.
      const removed = await options.audit.audited(actor(request), 'delete', undefined, (recordBefore) => storage.delete(ref, recordBefore));
      if (removed) changed(removed);
      return {};
    },
  );

  app.get<{ Params: { namespace: string } }>('/sync/:namespace', { schema: { params: namespaceParams } }, async (request) => {
    const namespace = checkNamespace(request.params.namespace);
    const items: unknown[] = [];
    let allowed = 0;
    for (const type of ['CONFIGMAP', 'DATABASE'] as const) {
      const storage = type === 'DATABASE' ? options.databaseLimits?.() : options.configMapLimits;
      if (!storage) continue;
      const permitted = await authorize(request, 'list', type, namespace).then(
        () => true,
        () => false,
      );
      if (!permitted) continue;
      allowed += 1;
      for (const limit of await storage.list(namespace)) items.push(await withStatus(limit, options));
    }
    if (allowed === 0) await authorize(request, 'list', 'CONFIGMAP', namespace); // throws Argo's 403 text
    return { items };
  });

  app.get<{ Params: { namespace: string; key: string }; Querystring: { type?: string; cmName?: string } }>(
    '/sync/:namespace/:key/status',
    { schema: { params: keyParams, querystring: refQuery } },
    async (request) => {
      const ref = refFrom(request.params.namespace, request.params.key, request.query);
      await authorize(request, 'get', ref.type, ref.namespace);
      return withStatus(await storageFor(ref.type).get(ref), options);
    },
  );

  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
  });
  app.get<{ Querystring: { namespace: string } }>(
    '/sync-events',
    { schema: { querystring: { type: 'object', required: ['namespace'], additionalProperties: false, properties: { namespace: { type: 'string' } } } } },
    async (request, reply) => {
      const namespace = checkNamespace(request.query.namespace);
      await requirePermission(request, { verb: 'get', resource: 'configmaps', namespace });
      // Server-sent events: the headers other hooks set (rate limit, HSTS) are kept, then the stream is ours.
      const stream = reply.raw;
      reply.hijack();
      stream.writeHead(200, { ...(reply.getHeaders() as Record<string, string>), 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      stream.write(': connected\n\n');
      streams.add(stream);
      const unsubscribe = options.events.subscribe(namespace, (event) => stream.write(`event: change\ndata: ${JSON.stringify(event)}\n\n`));
      const keepAlive = setInterval(() => stream.write(': keep-alive\n\n'), 15_000);
      stream.on('close', () => {
        unsubscribe();
        clearInterval(keepAlive);
        streams.delete(stream);
      });
    },
  );

  app.get<{ Querystring: { namespace?: string } }>(
    '/sync-audit',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { namespace: { type: 'string' } } } } },
    async (request) => {
      const namespace = request.query.namespace;
      if (namespace === undefined) throw new InvalidArgumentError('namespace is required: /api/v1/sync-audit?namespace=<namespace>');
      await requirePermission(request, { verb: 'get', resource: 'configmaps', namespace: checkNamespace(namespace) });
      return { items: await options.audit.list(namespace) };
    },
  );
};

/** A limit from path and body, checked in Argo's order: the limit first, then the type. Path parameters win. */
function limitFrom(namespace: string, key: string | undefined, body: LimitBody): SyncLimit {
  if ((body.limit ?? 0) <= 0) throw new InvalidArgumentError('limit must be greater than zero');
  return { ...refFrom(namespace, key, body), limit: body.limit! };
}

function refFrom(namespace: string, key: string | undefined, source: { type?: number | string; cmName?: string }): SyncLimitRef {
  const type = parseLimitType(source.type);
  if (!type) throw new InvalidArgumentError(`unsupported sync config type: ${String(source.type)}`);
  if (!key) throw new InvalidArgumentError('key is required');
  if (type === 'DATABASE') return { type, namespace: checkNamespace(namespace), key: checkDatabaseKey(namespace, key) };
  const cmName = source.cmName;
  if (!cmName) throw new InvalidArgumentError('cmName is required for a ConfigMap sync limit');
  checkConfigMapRef(checkNamespace(namespace), cmName, key);
  return { type, namespace, key, cmName };
}

/** The limit with its live holders and queue (SPEC §7.2 extensions), when the controller is in this process. */
async function withStatus(limit: SyncLimit, options: SyncLimitRoutesOptions) {
  const identity: LockIdentity =
    limit.type === 'DATABASE'
      ? { kind: 'Database', namespace: limit.namespace, name: limit.key, mutex: false }
      : { kind: 'ConfigMap', namespace: limit.namespace, configMapName: limit.cmName!, key: limit.key };
  const snapshot = await options.snapshot?.(identity).catch((error: unknown) => {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });
  return {
    ...toWire(limit),
    holders: (snapshot?.holders ?? []).map((holder) => ({ key: holder.holderKey, since: new Date(holder.since).toISOString(), token: holder.token })),
    waiting: (snapshot?.waiters ?? []).map((waiter) => ({ key: waiter.holderKey, priority: waiter.priority, since: new Date(waiter.creationTime).toISOString() })),
  };
}
