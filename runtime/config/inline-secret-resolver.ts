import { InvalidArgumentError } from '../errors.js';
import type { SecretResolver } from './connection.js';
import type { SecretKeySelector } from './runtime-config.js';

/** `argo-postgres-config` / `password` → `ARGO_POSTGRES_CONFIG_PASSWORD`. */
export function secretEnvironmentName(ref: SecretKeySelector): string {
  return `${ref.name}_${ref.key}`.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/**
 * Secrets outside Kubernetes. Credentials given inline (`userName`, `password`, `${ENV}`) never reach
 * a resolver; an Argo-style `userNameSecret`/`passwordSecret` is read from the environment variable
 * `secretEnvironmentName(ref)`, so a configuration written for a cluster also runs on a laptop.
 */
export function inlineSecretResolver(env: Readonly<Record<string, string | undefined>> = process.env): SecretResolver {
  return async (ref) => {
    const name = secretEnvironmentName(ref);
    const value = env[name];
    if (value !== undefined) return value;
    if (ref.optional === true) return '';
    throw new InvalidArgumentError(
      `secret ${ref.name} key ${ref.key} cannot be read outside Kubernetes: set the environment variable ${name}, ` +
        'or give userName/password inline in the configuration',
    );
  };
}
