import { ApiException } from '@kubernetes/client-node';

/** The HTTP status of a failed Kubernetes API call (ApiException) or watch request (Error with statusCode). */
export function kubernetesStatusCode(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const statusCode = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof statusCode === 'number' ? statusCode : undefined;
}
