import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { candidateRule, type ServiceAccountCandidate } from './service-account-choice.js';
import type { ServiceAccountDirectory } from './sso-sessions.js';

/** Argo's annotations on a ServiceAccount that SSO users may act as. */
export const RBAC_RULE_ANNOTATION = 'workflows.argoproj.io/rbac-rule';
export const RBAC_PRECEDENCE_ANNOTATION = 'workflows.argoproj.io/rbac-rule-precedence';

/** ServiceAccounts annotated with an rbac rule, listed from the cluster (a missing or bad precedence is 0, as Argo). */
export class KubernetesServiceAccounts implements ServiceAccountDirectory {
  readonly #core: CoreV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
  }

  async candidates(namespace: string): Promise<readonly ServiceAccountCandidate[]> {
    const list = await this.#core.listNamespacedServiceAccount({ namespace });
    return list.items.flatMap((account) => {
      const annotations = account.metadata?.annotations ?? {};
      const rule = annotations[RBAC_RULE_ANNOTATION];
      const name = account.metadata?.name;
      if (rule === undefined || name === undefined) return [];
      const precedence = Number(annotations[RBAC_PRECEDENCE_ANNOTATION] ?? '0');
      return [{ name, namespace, rbacRule: candidateRule(rule), precedence: Number.isInteger(precedence) ? precedence : 0 }];
    });
  }
}
