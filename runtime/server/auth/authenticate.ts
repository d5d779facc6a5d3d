import { labelProblem } from '../../store/kubernetes-names.js';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import { InternalError, UnauthenticatedError } from '../../errors.js';
import { selectAuthMode } from './auth-mode.js';
import type { AuthMode } from './auth-mode.js';
import { SERVER_IDENTITY } from './authorizer.js';
import type { Authorizer, Identity } from './authorizer.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook for every request inside the `/api/v1` context. */
    identity: Identity | undefined;
  }
  interface FastifyInstance {
    authorizer: Authorizer;
  }
}

/** SSO mode's check of a `Bearer v2:` session (SPEC §7.7); throws 401 for a bad session, 403 when no rule admits it. */
export interface SessionIdentifier {
  identify(session: string, requestNamespace: string | undefined, log: FastifyBaseLogger): Promise<Identity>;
}

/** Argo's text, kept searchable, with the argosync way to obtain a token appended. */
export const TOKEN_NOT_VALID =
  'token not valid. send "Authorization: Bearer <token>" (argosync up prints an admin token; the CLI reads ARGOSYNC_TOKEN)';

/**
 * Adds the authentication hook to `context` (the `/api/v1` plugin context, so probes and UI assets stay
 * open). Each request gets `request.identity`; routes then call `requirePermission`.
 */
export function registerAuthentication(context: FastifyInstance, authorizer: Authorizer, modes: readonly AuthMode[], sso?: SessionIdentifier): void {
  context.decorate('authorizer', authorizer);
  context.decorateRequest('identity', undefined);
  context.addHook('onRequest', async (request: FastifyRequest) => {
    const selection = selectAuthMode(modes, request.headers.authorization, request.headers.cookie);
    if (selection.mode === 'server') {
      request.identity = SERVER_IDENTITY;
      return;
    }
    if (selection.mode === 'none') throw new UnauthenticatedError(TOKEN_NOT_VALID);
    if (selection.mode === 'sso') {
      if (sso === undefined) throw new UnauthenticatedError(TOKEN_NOT_VALID);
      // Not yet validated by the route: only a well-formed namespace may reach the ServiceAccount lookup.
      const namespace = (request.params as { namespace?: string } | undefined)?.namespace;
      request.identity = await sso.identify(selection.session, namespace !== undefined && !labelProblem(namespace) ? namespace : undefined, request.log);
      return;
    }
    let identity: Identity | undefined;
    try {
      identity = await authorizer.authenticate(selection.token);
    } catch (error) {
      request.log.error({ err: error }, 'cannot authenticate token');
      throw new InternalError('cannot verify the token right now; try again later');
    }
    if (identity === undefined) throw new UnauthenticatedError(TOKEN_NOT_VALID);
    request.identity = identity;
  });
}
