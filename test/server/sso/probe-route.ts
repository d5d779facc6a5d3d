import type { FastifyPluginAsync } from 'fastify';
import { requirePermission } from '../../../runtime/server/auth/require-permission.js';

/** One route that needs `get workflows` in its namespace, so rbac decisions show as 200 or 403. */
export const probe: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { namespace: string } }>('/probe/:namespace', async (request) => {
    await requirePermission(request, { verb: 'get', resource: 'workflows', group: 'argoproj.io', namespace: request.params.namespace });
    return { subject: request.identity?.subject, serviceAccount: request.identity?.serviceAccount?.name ?? null };
  });
};
