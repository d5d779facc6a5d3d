import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { InvalidArgumentError } from '../errors.js';
import type { SecretResolver } from './connection.js';

/** Secrets on Kubernetes: key `ref.key` of Secret `ref.name` in `namespace`, with Argo's error texts. */
export function kubernetesSecretResolver(kubeConfig: KubeConfig, namespace: string): SecretResolver {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return async (ref) => {
    let data: Record<string, string> | undefined;
    try {
      data = (await core.readNamespacedSecret({ name: ref.name, namespace })).data;
    } catch (error) {
      if (ref.optional === true && (error as { code?: number }).code === 404) return '';
      throw new InvalidArgumentError(`cannot read secret ${namespace}/${ref.name}: ${(error as { code?: number }).code === 404 ? 'not found' : (error as Error).message}`);
    }
    const value = data?.[ref.key];
    if (value === undefined) {
      if (ref.optional === true) return '';
      throw new InvalidArgumentError(`key ${ref.key} missing in secret ${ref.name}`);
    }
    return Buffer.from(value, 'base64').toString('utf8');
  };
}
