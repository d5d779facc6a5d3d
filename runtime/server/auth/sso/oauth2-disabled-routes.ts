import type { FastifyPluginAsync } from 'fastify';

/** Without `--auth-mode sso` the `/oauth2/*` paths answer 501 with an empty body, as Argo's null SSO does. */
export const oauth2DisabledRoutes: FastifyPluginAsync = async (app) => {
  for (const path of ['/oauth2/redirect', '/oauth2/callback', '/oauth2/logout']) app.get(path, async (_request, reply) => reply.status(501).send());
};
