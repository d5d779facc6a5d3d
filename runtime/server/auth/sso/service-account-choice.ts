import { parseRule, RuleError, type RbacRule } from './rbac-expression.js';

/** A ServiceAccount that SSO users may act as: its rule and precedence (annotations, or the policy file). */
export interface ServiceAccountCandidate {
  readonly name: string;
  readonly namespace: string;
  /** The rule, parsed where it was read; one that does not parse never matches (and is logged). */
  readonly rbacRule: RbacRule | RuleError;
  readonly precedence: number;
}

export interface ChosenServiceAccount {
  readonly candidate: ServiceAccountCandidate;
  /** Rules that failed to parse or evaluate on the way, for the log. */
  readonly problems: readonly string[];
}

/** Parses a candidate's rule once, when it is read: the rule, or why it does not parse. */
export function candidateRule(source: string): RbacRule | RuleError {
  try {
    return parseRule(source);
  } catch (error) {
    return error instanceof RuleError ? error : new RuleError(String(error));
  }
}

/**
 * The candidate whose rule holds for `claims`: higher precedence first, ties broken by name (Argo leaves
 * ties to chance). Unlike Argo (#15110), a rule that cannot be evaluated counts as not matching and the
 * search goes on, so one broken annotation does not lock everyone out.
 */
export function chooseServiceAccount(candidates: readonly ServiceAccountCandidate[], claims: Readonly<Record<string, unknown>>): ChosenServiceAccount | { readonly problems: readonly string[] } {
  const ordered = [...candidates].sort((a, b) => b.precedence - a.precedence || a.name.localeCompare(b.name));
  const problems: string[] = [];
  for (const candidate of ordered) {
    const rule = candidate.rbacRule;
    try {
      if (rule instanceof RuleError) throw rule;
      if (rule.evaluate(claims)) return { candidate, problems };
    } catch (error) {
      problems.push(`${candidate.namespace}/${candidate.name}: ${(error as Error).message}`);
    }
  }
  return { problems };
}

/**
 * Argo v4's `SSO_DELEGATE_RBAC_TO_NAMESPACE`: a match among the request namespace's ServiceAccounts is used
 * when the login namespace had none, or when its precedence is strictly higher.
 */
export function preferDelegated(login: ServiceAccountCandidate | undefined, delegated: ServiceAccountCandidate | undefined): ServiceAccountCandidate | undefined {
  if (delegated === undefined) return login;
  if (login === undefined || delegated.precedence > login.precedence) return delegated;
  return login;
}
