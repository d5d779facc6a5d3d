import type { KubeConfig } from '@kubernetes/client-node';

/**
 * The cluster the runtime runs in or is pointed at: in-cluster credentials when `KUBERNETES_SERVICE_HOST` is
 * set (a Pod), else the file in `KUBECONFIG`; undefined outside Kubernetes, where the state store holds
 * ConfigMaps and the policy file holds tokens.
 */
export async function kubernetesFromEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<KubeConfig | undefined> {
  if (!env.KUBERNETES_SERVICE_HOST && !env.KUBECONFIG) return undefined;
  // The client is large (about a second and 70 MB to load), so only a runtime on Kubernetes loads it.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kubeConfig = new KubeConfig();
  if (env.KUBERNETES_SERVICE_HOST) {
    kubeConfig.loadFromCluster();
    return kubeConfig;
  }
  kubeConfig.loadFromFile(env.KUBECONFIG!);
  return kubeConfig;
}
