import { KubeConfig } from '@kubernetes/client-node';

/**
 * The cluster the runtime runs in or is pointed at: in-cluster credentials when `KUBERNETES_SERVICE_HOST` is
 * set (a Pod), else the file in `KUBECONFIG`; undefined outside Kubernetes, where the state store holds
 * ConfigMaps and the policy file holds tokens.
 */
export function kubernetesFromEnvironment(env: NodeJS.ProcessEnv = process.env): KubeConfig | undefined {
  const kubeConfig = new KubeConfig();
  if (env.KUBERNETES_SERVICE_HOST) {
    kubeConfig.loadFromCluster();
    return kubeConfig;
  }
  if (env.KUBECONFIG) {
    kubeConfig.loadFromFile(env.KUBECONFIG);
    return kubeConfig;
  }
  return undefined;
}
