import { hasControlCharacter } from '../../../control-characters.js';

/** Groups a sign-in may bring (before `filterGroupsRegex`): far more than a 4 KB cookie holds, so filtering can narrow them. */
export const MAX_GROUPS = 1000;
/** Characters in one group, and in `sub`, `email`, `name` and the other string claims a session carries (OIDC's `sub` is ≤ 255). */
export const MAX_CLAIM_LENGTH = 256;

/**
 * Why the identity provider's claims cannot become a session, or undefined. They end up in the cookie, in logs
 * and in rbac rules, so they are bounded; an oversized or control-character value refuses the sign-in rather
 * than being cut: a truncated email or a dropped group could make an rbac rule (`endsWith`, `not in`) hold
 * for someone it was not written for.
 */
export function claimsProblem(strings: Readonly<Record<string, string>>, groups: readonly string[]): string | undefined {
  if (groups.length > MAX_GROUPS) return `the identity provider sent ${groups.length} groups, more than the ${MAX_GROUPS} argosync accepts`;
  const badGroup = groups.findIndex((group) => !fits(group));
  if (badGroup >= 0) return `group ${badGroup + 1} is longer than ${MAX_CLAIM_LENGTH} characters or holds control characters`;
  const badClaim = Object.keys(strings).find((name) => !fits(strings[name]!));
  return badClaim === undefined ? undefined : `the ${badClaim} claim is longer than ${MAX_CLAIM_LENGTH} characters or holds control characters`;
}

function fits(value: string): boolean {
  return value.length <= MAX_CLAIM_LENGTH && !hasControlCharacter(value);
}
