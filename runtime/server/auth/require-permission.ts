import type { FastifyRequest } from 'fastify';
import { InternalError, PermissionDeniedError } from '../../errors.js';
import type { PermissionRequest } from './authorizer.js';

/** Argo's denial text; `what` is the resource (`configmaps`) or Argo's `database sync limit`. */
export function permissionDenied(verb: string, what: string, namespace: string): string {
  return `Permission denied, you are not allowed to ${verb} ${what} in namespace "${namespace}".`;
}

/**
 * Throws PermissionDeniedError (403, Argo's text) unless the request's identity may do `permission`.
 * `what` names the object in the message when it is not the resource itself: database limits are
 * authorized on `workflows` but denied as `database sync limit`, as Argo's `sync_db.go` does.
 */
export async function requirePermission(
  request: FastifyRequest,
  permission: PermissionRequest,
  what: string = permission.resource,
): Promise<void> {
  const identity = request.identity;
  if (identity === undefined) {
    // A programming error: the route was registered outside the authenticated `/api/v1` context.
    throw new InternalError(`route ${request.routeOptions.url ?? request.url} is not behind authentication`);
  }
  let allowed: boolean;
  try {
    allowed = await request.server.authorizer.can(identity, permission);
  } catch (error) {
    request.log.error({ err: error, permission }, 'cannot check permission');
    throw new InternalError('cannot check permissions right now; try again later');
  }
  if (!allowed) throw new PermissionDeniedError(permissionDenied(permission.verb, what, permission.namespace));
}
