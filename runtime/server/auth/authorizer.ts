import type { SessionClaims } from './sso/session-cookie.js';

/** A ServiceAccount whose rights an SSO user has (SPEC §7.7, `rbac.enabled`). */
export interface ServiceAccountRef {
  readonly name: string;
  readonly namespace: string;
}

/**
 * Who a request acts as: a token's subject (`client` mode), the server itself (`server` mode, and SSO
 * without rbac), or a ServiceAccount chosen for an SSO user.
 */
export interface Identity {
  readonly mode: 'client' | 'server';
  /** User name (Kubernetes `username`, the policy file's `subject`, an SSO user's email or subject). Never the token. */
  readonly subject: string;
  readonly groups: readonly string[];
  /** Set for SSO users under `rbac.enabled`: permissions are this ServiceAccount's. */
  readonly serviceAccount?: ServiceAccountRef;
  /** Set for SSO users: the session's claims, as `/api/v1/userinfo` shows them. */
  readonly session?: SessionClaims;
}

/** The Kubernetes-style question asked before an operation, as in a SubjectAccessReview. */
export interface PermissionRequest {
  /** `create`, `get`, `update`, `delete`, `list`, … */
  readonly verb: string;
  /** Plural resource name: `configmaps`, `workflows`. */
  readonly resource: string;
  /** API group: `''` (core) for ConfigMaps, `argoproj.io` for workflows. */
  readonly group?: string;
  readonly namespace: string;
}

/** Checks tokens and permissions; one implementation per trust source (local policy file, Kubernetes). */
export interface Authorizer {
  /**
   * Returns the identity a bearer token stands for, or undefined when the token is unknown, expired or
   * rejected. Throws only when the trust source cannot be asked (the request then fails with 500).
   */
  authenticate(token: string): Promise<Identity | undefined>;
  /** Whether `identity` may perform `request`. The server identity is judged by the server's own rights. */
  can(identity: Identity, request: PermissionRequest): Promise<boolean>;
}

/** The identity of requests served in `server` auth mode. */
export const SERVER_IDENTITY: Identity = Object.freeze({ mode: 'server', subject: 'argosync-server', groups: [] });
