import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WorkflowArchive } from '../../controller/archive/workflow-archive.js';
import { hasControlCharacter } from '../../control-characters.js';
import { InvalidArgumentError, NotFoundError } from '../../errors.js';
import { checkNamespace } from '../request-names.js';
import { requirePermission } from '../auth/require-permission.js';
import { listQuery, type ListQuery } from './workflows.js';

export interface ArchivedWorkflowRoutesOptions {
  /** The archive of the persistence database in use (it changes with the config API). */
  readonly archive: () => WorkflowArchive;
}

const uidParams = { type: 'object', required: ['uid'], properties: { uid: { type: 'string', minLength: 1, maxLength: 128 } } } as const;
const archiveQuery = { ...listQuery, properties: { ...listQuery.properties, namespace: { type: 'string', minLength: 1, maxLength: 253 } } } as const;

/**
 * SPEC §7.3: the archive, authorized as workflows of the archived workflow's namespace (Argo checks the same
 * verbs on `workflows`). Listing without a namespace needs `list` on workflows in every namespace (`*`).
 */
export const archivedWorkflowRoutes: FastifyPluginAsync<ArchivedWorkflowRoutesOptions> = async (app, options) => {
  const authorize = (request: FastifyRequest, verb: 'list' | 'get' | 'delete', namespace: string) =>
    requirePermission(request, { verb, resource: 'workflows', group: 'argoproj.io', namespace });
  const archived = async (uid: string) => {
    if (hasControlCharacter(uid)) throw new InvalidArgumentError('invalid uid: must not contain NUL or other control characters');
    const workflow = await options.archive().get(uid);
    if (!workflow) throw new NotFoundError('not found');
    return workflow;
  };

  app.get<{ Querystring: ListQuery & { namespace?: string } }>('/archived-workflows', { schema: { querystring: archiveQuery } }, async (request) => {
    const query = request.query;
    await authorize(request, 'list', query.namespace === undefined ? '*' : checkNamespace(query.namespace));
    const page = await options.archive().list({
      ...(query.namespace ? { namespace: query.namespace } : {}),
      ...(query['listOptions.labelSelector'] ? { labelSelector: query['listOptions.labelSelector'] } : {}),
      ...(query['listOptions.limit'] ? { limit: query['listOptions.limit'] } : {}),
      ...(query['listOptions.continue'] ? { continue: query['listOptions.continue'] } : {}),
    });
    return { metadata: page.continue ? { continue: page.continue } : {}, items: page.items };
  });

  app.get<{ Params: { uid: string } }>('/archived-workflows/:uid', { schema: { params: uidParams } }, async (request) => {
    const workflow = await archived(request.params.uid);
    await authorize(request, 'get', workflow.metadata.namespace);
    return workflow;
  });

  app.delete<{ Params: { uid: string } }>('/archived-workflows/:uid', { schema: { params: uidParams } }, async (request) => {
    const workflow = await archived(request.params.uid);
    await authorize(request, 'delete', workflow.metadata.namespace);
    await options.archive().delete(request.params.uid);
    return {};
  });
};
