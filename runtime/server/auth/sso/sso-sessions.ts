import { PermissionDeniedError, UnauthenticatedError } from '../../../errors.js';
import type { Clock } from '../../../clock.js';
import type { Identity } from '../authorizer.js';
import { readSession, type SessionClaims } from './session-cookie.js';
import { chooseServiceAccount, preferDelegated, type ServiceAccountCandidate } from './service-account-choice.js';

/** Where the ServiceAccounts that SSO users may act as come from: annotations on Kubernetes, the policy file elsewhere. */
export interface ServiceAccountDirectory {
  candidates(namespace: string): Promise<readonly ServiceAccountCandidate[]>;
}

export interface SsoRbac {
  readonly directory: ServiceAccountDirectory;
  /** The server's namespace, where login ServiceAccounts live. */
  readonly namespace: string;
  /** `SSO_DELEGATE_RBAC_TO_NAMESPACE=true`: the request's namespace may offer a ServiceAccount too. */
  readonly delegateToNamespace: boolean;
}

/** Where the choice of ServiceAccount is recorded: the request's logger. */
export interface AuditLog {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

/** Argo's text for an SSO user no rule admits (HTTP 403, gRPC 7). */
export const NOT_ALLOWED = 'not allowed';

/**
 * Turns a `Bearer v2:` session into the identity a request acts as (SPEC §7.7): without rbac the server's
 * own identity (Argo), with rbac the ServiceAccount whose rule holds for the session's claims.
 */
export class SsoSessions {
  constructor(
    private readonly contentKey: Uint8Array,
    private readonly rbac: SsoRbac | undefined,
    private readonly clock: Clock,
  ) {}

  async identify(session: string, requestNamespace: string | undefined, log: AuditLog): Promise<Identity> {
    const claims = await readSession(this.contentKey, session, this.clock.now());
    if ('refused' in claims) throw new UnauthenticatedError(claims.refused);
    const person = { subject: claims.email || claims.sub, groups: claims.groups ?? [] };
    if (this.rbac === undefined) return { mode: 'server', ...person, session: claims };
    const account = await this.#serviceAccountFor(this.rbac, claims, requestNamespace, log);
    if (account === undefined) throw new PermissionDeniedError(NOT_ALLOWED);
    return {
      mode: 'client',
      ...person,
      serviceAccount: { name: account.name, namespace: account.namespace },
      session: { ...claims, service_account_name: account.name, service_account_namespace: account.namespace },
    };
  }

  async #serviceAccountFor(rbac: SsoRbac, claims: SessionClaims, requestNamespace: string | undefined, log: AuditLog): Promise<ServiceAccountCandidate | undefined> {
    const environment = { ...claims };
    const choose = async (namespace: string) => {
      const chosen = chooseServiceAccount(await rbac.directory.candidates(namespace), environment);
      if (chosen.problems.length > 0) log.warn({ problems: chosen.problems }, 'rbac rules that could not be evaluated were skipped');
      return 'candidate' in chosen ? chosen.candidate : undefined;
    };
    const login = await choose(rbac.namespace);
    const delegated =
      rbac.delegateToNamespace && requestNamespace !== undefined && requestNamespace !== '' && requestNamespace !== rbac.namespace
        ? await choose(requestNamespace)
        : undefined;
    const account = preferDelegated(login, delegated);
    log.info(
      {
      subject: claims.sub,
      serviceAccount: account && `${account.namespace}/${account.name}`,
      loginServiceAccount: login && `${login.namespace}/${login.name}`,
        ssoDelegated: account !== undefined && account === delegated,
      },
      account ? 'selected SSO RBAC service account for user' : 'no service account rule matches',
    );
    return account;
  }
}
