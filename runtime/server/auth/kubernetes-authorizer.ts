import { AuthenticationV1Api, AuthorizationV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1ResourceAttributes } from '@kubernetes/client-node';
import type { Authorizer, Identity, PermissionRequest } from './authorizer.js';

/**
 * `client` auth mode on Kubernetes: a bearer token is checked with a TokenReview and each operation with
 * a SubjectAccessReview for the reviewed user and groups, both sent with the server's own credentials
 * (its service account needs `create` on `tokenreviews` and `subjectaccessreviews`). The server identity
 * (`server` mode) is judged by a SelfSubjectAccessReview, i.e. by the server's own RBAC, as in Argo.
 */
export class KubernetesAuthorizer implements Authorizer {
  readonly #authentication: AuthenticationV1Api;
  readonly #authorization: AuthorizationV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.#authentication = kubeConfig.makeApiClient(AuthenticationV1Api);
    this.#authorization = kubeConfig.makeApiClient(AuthorizationV1Api);
  }

  async authenticate(token: string): Promise<Identity | undefined> {
    const review = await this.#authentication.createTokenReview({ body: { spec: { token } } });
    const status = review.status;
    if (!status?.authenticated || !status.user?.username) return undefined;
    return { mode: 'client', subject: status.user.username, groups: status.user.groups ?? [] };
  }

  async can(identity: Identity, request: PermissionRequest): Promise<boolean> {
    const resourceAttributes: V1ResourceAttributes = {
      verb: request.verb,
      resource: request.resource,
      group: request.group ?? '',
      namespace: request.namespace,
    };
    if (identity.mode === 'server') {
      const review = await this.#authorization.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes } } });
      return review.status?.allowed === true;
    }
    const account = identity.serviceAccount;
    // An SSO user under rbac is authorized as the chosen ServiceAccount, with the groups Kubernetes gives it.
    const subject = account
      ? { user: `system:serviceaccount:${account.namespace}:${account.name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${account.namespace}`, 'system:authenticated'] }
      : { user: identity.subject, groups: [...identity.groups] };
    const review = await this.#authorization.createSubjectAccessReview({ body: { spec: { ...subject, resourceAttributes } } });
    return review.status?.allowed === true;
  }
}
