import type { Clock } from '../../../clock.js';
import type { ServiceAccountCandidate } from './service-account-choice.js';
import type { ServiceAccountDirectory } from './sso-sessions.js';

/** How stale an rbac annotation may be: a changed or removed rule applies within this time. */
export const SERVICE_ACCOUNT_TTL_MS = 5_000;
/** Namespaces remembered at once; with SSO_DELEGATE_RBAC_TO_NAMESPACE a request chooses the namespace. */
export const MAX_CACHED_NAMESPACES = 256;

/**
 * Remembers each namespace's candidates for `ttlMs`, so SSO with rbac lists ServiceAccounts once per namespace
 * and period instead of once per request (Argo reads an informer's cache). Callers that miss together share one
 * list; a failed list is not remembered. The least recently used namespace is forgotten beyond `maxNamespaces`.
 */
export class CachedServiceAccounts implements ServiceAccountDirectory {
  readonly #entries = new Map<string, { readonly at: number; readonly candidates: Promise<readonly ServiceAccountCandidate[]> }>();

  constructor(
    private readonly directory: ServiceAccountDirectory,
    private readonly clock: Clock,
    private readonly ttlMs = SERVICE_ACCOUNT_TTL_MS,
    private readonly maxNamespaces = MAX_CACHED_NAMESPACES,
  ) {}

  candidates(namespace: string): Promise<readonly ServiceAccountCandidate[]> {
    const now = this.clock.now();
    const cached = this.#entries.get(namespace);
    this.#entries.delete(namespace);
    if (cached !== undefined && now - cached.at < this.ttlMs) {
      this.#entries.set(namespace, cached);
      return cached.candidates;
    }
    const candidates = this.directory.candidates(namespace);
    const entry = { at: now, candidates };
    this.#entries.set(namespace, entry);
    if (this.#entries.size > this.maxNamespaces) this.#entries.delete(this.#entries.keys().next().value!);
    candidates.catch(() => {
      if (this.#entries.get(namespace) === entry) this.#entries.delete(namespace);
    });
    return candidates;
  }
}
