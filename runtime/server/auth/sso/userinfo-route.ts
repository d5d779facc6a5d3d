import type { FastifyPluginAsync } from 'fastify';

/**
 * `GET /api/v1/userinfo` (Argo's `UserInfoResponse`): for an SSO user the session's claims and the
 * ServiceAccount chosen for them; for a token the policy's or Kubernetes' subject; nothing in server mode.
 * Any authenticated caller may read its own.
 */
export const userInfoRoute: FastifyPluginAsync = async (app) => {
  app.get('/userinfo', async (request) => {
    const identity = request.identity;
    const session = identity?.session;
    if (session === undefined) return identity?.mode === 'client' ? { subject: identity.subject, ...(identity.groups.length > 0 ? { groups: identity.groups } : {}) } : {};
    const fields = {
      issuer: session.iss,
      subject: session.sub,
      groups: session.groups,
      email: session.email,
      name: session.name,
      preferredUsername: session.preferred_username,
      serviceAccountName: session.service_account_name,
      serviceAccountNamespace: session.service_account_namespace,
    };
    return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  });
};
