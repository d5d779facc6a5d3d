import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { parseWorkflowManifest } from '../../controller/workflows/workflow-manifest.js';
import { isCompleted, type Workflow } from '../../controller/workflows/workflow.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../../errors.js';
import type { WorkflowStore } from '../../store/workflow-store.js';
import { requirePermission } from '../auth/require-permission.js';
import { checkNamespace, checkObjectName } from '../request-names.js';

export interface WorkflowRoutesOptions {
  readonly store: WorkflowStore;
  /** Restores compressed or offloaded nodes (SPEC §6) before a workflow is returned. */
  readonly hydrate: (workflow: Workflow) => Promise<Workflow>;
}

type Verb = 'create' | 'list' | 'get' | 'delete' | 'update';

const namespaceParams = { type: 'object', required: ['namespace'], properties: { namespace: { type: 'string', minLength: 1, maxLength: 253 } } } as const;
const nameParams = { type: 'object', required: ['namespace', 'name'], properties: { namespace: { type: 'string', minLength: 1, maxLength: 253 }, name: { type: 'string', minLength: 1, maxLength: 253 } } } as const;
const createBody = { type: 'object', required: ['workflow'], additionalProperties: false, properties: { namespace: { type: 'string' }, workflow: { type: 'object' }, serverDryRun: { type: 'boolean' } } } as const;
export const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    'listOptions.labelSelector': { type: 'string', maxLength: 4096 },
    'listOptions.limit': { type: 'integer', minimum: 0, maximum: 10000 },
    'listOptions.continue': { type: 'string', maxLength: 4096 },
  },
} as const;

export interface ListQuery {
  readonly 'listOptions.labelSelector'?: string;
  readonly 'listOptions.limit'?: number;
  readonly 'listOptions.continue'?: string;
}

const TERMINATE_ATTEMPTS = 5;

/** SPEC §7.3: submit, list, get, delete and terminate workflows, authorized on `workflows` as Argo does. */
export const workflowRoutes: FastifyPluginAsync<WorkflowRoutesOptions> = async (app, options) => {
  const { store, hydrate } = options;
  const authorize = (request: FastifyRequest, verb: Verb, namespace: string) => requirePermission(request, { verb, resource: 'workflows', group: 'argoproj.io', namespace });
  const existing = async (namespace: string, name: string) => {
    const workflow = await store.get(namespace, name);
    if (!workflow) throw new NotFoundError(`workflows.argoproj.io ${JSON.stringify(name)} not found`);
    return workflow;
  };

  app.post<{ Params: { namespace: string }; Body: { workflow: unknown; serverDryRun?: boolean } }>(
    '/workflows/:namespace',
    { schema: { params: namespaceParams, body: createBody } },
    async (request) => {
      const namespace = checkNamespace(request.params.namespace);
      await authorize(request, 'create', namespace);
      const manifest = parseWorkflowManifest(request.body.workflow, namespace);
      if (request.body.serverDryRun) return manifest;
      return store.create(manifest);
    },
  );

  app.get<{ Params: { namespace: string }; Querystring: ListQuery }>('/workflows/:namespace', { schema: { params: namespaceParams, querystring: listQuery } }, async (request) => {
    const namespace = checkNamespace(request.params.namespace);
    await authorize(request, 'list', namespace);
    const query = request.query;
    const page = await store.list({
      namespace,
      ...(query['listOptions.labelSelector'] ? { labelSelector: query['listOptions.labelSelector'] } : {}),
      ...(query['listOptions.limit'] ? { limit: query['listOptions.limit'] } : {}),
      ...(query['listOptions.continue'] ? { continue: query['listOptions.continue'] } : {}),
    });
    return { metadata: page.continue ? { continue: page.continue } : {}, items: await Promise.all(page.items.map(hydrate)) };
  });

  app.get<{ Params: { namespace: string; name: string } }>('/workflows/:namespace/:name', { schema: { params: nameParams } }, async (request) => {
    const { namespace, name } = checkedParams(request.params);
    await authorize(request, 'get', namespace);
    return hydrate(await existing(namespace, name));
  });

  app.delete<{ Params: { namespace: string; name: string } }>('/workflows/:namespace/:name', { schema: { params: nameParams } }, async (request) => {
    const { namespace, name } = checkedParams(request.params);
    await authorize(request, 'delete', namespace);
    if (!(await store.delete(namespace, name))) throw new NotFoundError(`workflows.argoproj.io ${JSON.stringify(name)} not found`);
    return {};
  });

  app.put<{ Params: { namespace: string; name: string } }>('/workflows/:namespace/:name/terminate', { schema: { params: nameParams } }, async (request) => {
    const { namespace, name } = checkedParams(request.params);
    await authorize(request, 'update', namespace);
    // The controller writes status at the same time: re-read and retry on a conflict.
    for (let attempt = 1; ; attempt += 1) {
      const workflow = await existing(namespace, name);
      if (isCompleted(workflow)) throw new InvalidArgumentError(`cannot shutdown a completed workflow: workflow: ${name}, namespace: ${namespace}`);
      if (workflow.spec.shutdown === 'Terminate') return hydrate(workflow);
      try {
        return await hydrate(await store.update({ ...workflow, spec: { ...workflow.spec, shutdown: 'Terminate' } }));
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt === TERMINATE_ATTEMPTS) throw error;
      }
    }
  });
};

function checkedParams(params: { namespace: string; name: string }): { namespace: string; name: string } {
  return { namespace: checkNamespace(params.namespace), name: checkObjectName(params.name, 'name') };
}
