import { ApiClient } from '../runtime/client/api-client.js';
import { redactUrl } from '../runtime/redact.js';
import type { CheckFailure } from './resource-handler.js';
import { UNKNOWN } from './resource-handler.js';

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

/** The provider's configuration keys (schema.json `config.variables`; the schema test checks they agree). */
export const CONFIG_KEYS: readonly (keyof ProviderConfig)[] = ['endpoint', 'token', 'insecureSkipVerify', 'caCertificate', 'namespace', 'adoptExisting', 'requestTimeoutSeconds'];
/** Properties the engine itself adds to a provider's inputs. */
export const ENGINE_KEYS: ReadonlySet<string> = new Set(['version', 'pluginDownloadURL']);

/**
 * CheckConfig (SPEC §9): an endpoint that is not an http(s) URL, a timeout of 0 or less, or an unknown key fails
 * with the property's name. Values may be typed (current engines) or strings (stack config of older ones).
 */
export function configFailures(values: Record<string, unknown>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const given = (key: string) => values[key] !== undefined && values[key] !== UNKNOWN;
  for (const key of Object.keys(values)) {
    if (!ENGINE_KEYS.has(key) && !(CONFIG_KEYS as readonly string[]).includes(key)) {
      failures.push({ property: key, reason: `argosync:${key} is not a configuration key of the argosync provider (known keys: ${CONFIG_KEYS.join(', ')})` });
    }
  }
  if (given('endpoint') && !isHttpUrl(values.endpoint)) {
    failures.push({ property: 'endpoint', reason: `must be an http or https URL such as https://argosync.example:2746, got ${JSON.stringify(redactUrl(String(values.endpoint)))}` });
  }
  if (given('requestTimeoutSeconds')) {
    const timeout = Number(values.requestTimeoutSeconds);
    if (!Number.isFinite(timeout) || timeout <= 0) failures.push({ property: 'requestTimeoutSeconds', reason: `must be a number of seconds greater than 0, got ${JSON.stringify(values.requestTimeoutSeconds)}` });
  }
  for (const key of ['insecureSkipVerify', 'adoptExisting']) {
    if (given(key) && ![true, false, 'true', 'false'].includes(values[key] as string)) failures.push({ property: key, reason: `must be true or false, got ${JSON.stringify(values[key])}` });
  }
  return failures;
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
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
