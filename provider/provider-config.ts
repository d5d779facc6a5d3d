import { ApiClient } from '../runtime/client/api-client.js';

/** Provider configuration (SPEC §9), from Configure's `args`, the older `variables`, then the environment. */
export interface ProviderConfig {
  readonly endpoint: string;
  readonly token: string | undefined;
  readonly insecureSkipVerify: boolean;
  readonly caCertificate: string | undefined;
  readonly namespace: string;
  readonly adoptExisting: boolean;
  readonly requestTimeoutSeconds: number;
}

const ENVIRONMENT: Readonly<Record<string, string>> = { endpoint: 'ARGOSYNC_SERVER', token: 'ARGOSYNC_TOKEN', insecureSkipVerify: 'ARGOSYNC_INSECURE_SKIP_VERIFY' };

/**
 * `args` carries typed values from current engines; `variables` (`argosync:config:<key>` or `argosync:<key>`)
 * carries strings from older ones. Either wins over the environment.
 */
export function readProviderConfig(args: Record<string, unknown>, variables: Record<string, string>, env: NodeJS.ProcessEnv = process.env): ProviderConfig {
  const raw = (key: string): unknown => args[key] ?? variables[`argosync:config:${key}`] ?? variables[`argosync:${key}`] ?? (ENVIRONMENT[key] ? env[ENVIRONMENT[key]] : undefined);
  const text = (key: string) => {
    const value = raw(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const flag = (key: string) => ['true', '1', 'yes'].includes(String(raw(key) ?? '').toLowerCase());
  const timeout = Number(text('requestTimeoutSeconds') ?? 30);
  return {
    endpoint: text('endpoint') ?? 'https://localhost:2746',
    token: text('token'),
    insecureSkipVerify: flag('insecureSkipVerify'),
    caCertificate: text('caCertificate'),
    namespace: text('namespace') ?? 'default',
    adoptExisting: flag('adoptExisting'),
    requestTimeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : 30,
  };
}

export function apiClientFor(config: ProviderConfig, signal?: AbortSignal): ApiClient {
  return new ApiClient({
    ...(signal ? { signal } : {}),
    server: config.endpoint,
    ...(config.token ? { token: config.token } : {}),
    insecureSkipVerify: config.insecureSkipVerify,
    ...(config.caCertificate ? { caCertificate: config.caCertificate } : {}),
    requestTimeoutSeconds: config.requestTimeoutSeconds,
  });
}
