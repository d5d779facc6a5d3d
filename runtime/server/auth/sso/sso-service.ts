import type { KubeConfig } from '@kubernetes/client-node';
import type { FastifyPluginAsync } from 'fastify';
import type { Clock } from '../../../clock.js';
import type { SecretResolver } from '../../../config/connection.js';
import type { SecretSource } from '../../../config/runtime-config.js';
import type { SsoConfig } from '../../../config/sso-section.js';
import { RequestOrigin, type SiteOptions } from '../../request-origin.js';
import { CachedServiceAccounts } from './cached-service-accounts.js';
import { IdentityProvider } from './identity-provider.js';
import { KubernetesServiceAccounts } from './kubernetes-service-accounts.js';
import { oauth2Routes } from './oauth2-routes.js';
import { sessionContentKey } from './session-cookie.js';
import { loadOrCreateFileKey, loadOrCreateSecretKey } from './sso-key.js';
import { SsoSessions, type ServiceAccountDirectory } from './sso-sessions.js';

export interface SsoStartOptions {
  readonly sso: SsoConfig;
  readonly home: string;
  /** The cluster: the key lives in Secret `sso` and rbac reads annotated ServiceAccounts. */
  readonly kubernetes: KubeConfig | undefined;
  /** The server's namespace (Secrets, login ServiceAccounts). */
  readonly namespace: string;
  readonly resolveSecret: SecretResolver;
  /** Outside Kubernetes: the policy file's `serviceAccounts`. */
  readonly policyServiceAccounts: ServiceAccountDirectory | undefined;
  readonly baseHref: string;
  /** The server's `--secure`, `--trusted-proxies`, `--allowed-hosts` and `--address`: where the callback URL may point. */
  readonly site: SiteOptions;
  readonly clock: Clock;
  readonly env?: NodeJS.ProcessEnv;
}

/** SSO, ready to serve: the session check for the auth hook and the `/oauth2/*` routes. */
export interface SsoService {
  readonly sessions: SsoSessions;
  readonly routes: FastifyPluginAsync;
  /** The host of `sso.redirectUrl`: the operator named it as this server's, as `--allowed-hosts` would. */
  readonly ownHosts?: readonly string[];
}

async function resolve(source: SecretSource, resolveSecret: SecretResolver, key: string): Promise<string> {
  const value = 'inline' in source ? source.inline : await resolveSecret(source.secretKeyRef).catch((error: Error) => {
    throw new Error(`sso.${key}: ${error.message}`);
  });
  if (value === '') throw new Error(`sso.${key}: ${key} empty`);
  return value;
}

/**
 * Reads the credentials, loads (or creates) the cookie key and discovers the provider, before the server
 * listens; any failure names the key or the issuer, and nothing listens.
 */
export async function startSso(options: SsoStartOptions): Promise<SsoService> {
  const { sso } = options;
  const clientId = await resolve(sso.clientId, options.resolveSecret, 'clientId');
  const clientSecret = await resolve(sso.clientSecret, options.resolveSecret, 'clientSecret');
  const der = options.kubernetes ? await loadOrCreateSecretKey(options.kubernetes, options.namespace) : await loadOrCreateFileKey(options.home);
  const contentKey = sessionContentKey(der);
  const provider = await IdentityProvider.discover(sso, clientId, clientSecret);
  const directory = options.kubernetes ? new CachedServiceAccounts(new KubernetesServiceAccounts(options.kubernetes), options.clock) : options.policyServiceAccounts;
  if (sso.rbacEnabled && directory === undefined) {
    throw new Error('sso.rbac.enabled: no ServiceAccounts to map users to (neither Kubernetes nor a policy file): refusing to let every user act as the server');
  }
  const env = options.env ?? process.env;
  const rbac =
    sso.rbacEnabled && directory !== undefined
      ? { directory, namespace: options.namespace, delegateToNamespace: options.kubernetes !== undefined && env.SSO_DELEGATE_RBAC_TO_NAMESPACE === 'true' }
      : undefined;
  const sessions = new SsoSessions(contentKey, rbac, options.clock);
  const routes: FastifyPluginAsync = async (app) => {
    await app.register(oauth2Routes, { sso, provider, contentKey, baseHref: options.baseHref, secure: options.site.secure, site: new RequestOrigin(options.site), clock: options.clock });
  };
  return { sessions, routes, ownHosts: sso.redirectUrl === undefined ? [] : [new URL(sso.redirectUrl).host] };
}
