/** Who a request acts as: a token's subject (`client` mode) or the server itself (`server` mode). */
export interface Identity {
  readonly mode: 'client' | 'server';
  /** User name (Kubernetes `username`, or the policy file's `subject`). Never the token. */
  readonly subject: string;
  readonly groups: readonly string[];
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
