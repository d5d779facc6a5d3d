import { hash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Authorizer, Identity, PermissionRequest } from './authorizer.js';
import { parseRule } from './sso/rbac-expression.js';
import { candidateRule, type ServiceAccountCandidate } from './sso/service-account-choice.js';

/** A Role-like rule: `*` in a list matches anything. */
export interface PolicyRule {
  readonly verbs: readonly string[];
  readonly resources: readonly string[];
  readonly namespaces: readonly string[];
}

/** One accepted token, stored only as the hex SHA-256 of the token. */
export interface PolicyToken {
  readonly subject: string;
  readonly sha256: string;
  readonly groups?: readonly string[];
  readonly rules: readonly PolicyRule[];
}

/** SPEC §7.7: an identity SSO users take when `rbacRule` holds for their session (higher `precedence` first). */
export interface PolicyServiceAccount {
  readonly name: string;
  readonly rbacRule: string;
  readonly precedence?: number;
  readonly rules: readonly PolicyRule[];
}

export interface Policy {
  readonly tokens: readonly PolicyToken[];
  readonly serviceAccounts?: readonly PolicyServiceAccount[];
}

export const ADMIN_SUBJECT = 'admin';
const ADMIN_RULES: readonly PolicyRule[] = [{ verbs: ['*'], resources: ['*'], namespaces: ['*'] }];

/** Where `client` auth mode looks for tokens outside Kubernetes. */
export function policyFilePath(home: string): string {
  return join(home, 'policy.yaml');
}

export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/**
 * `client` auth mode without Kubernetes: bearer tokens are checked against the hashes of a local YAML
 * policy file and authorized by the rules of the token's subject. The server identity (`server` mode)
 * is the local operator and may do anything.
 */
export class PolicyFileAuthorizer implements Authorizer {
  readonly #path: string;
  #policy: Policy;
  #byHash: ReadonlyMap<string, PolicyToken>;
  /** The ServiceAccounts with their rules parsed once, at load (the admin token never changes them). */
  readonly #ssoAccounts: readonly Omit<ServiceAccountCandidate, 'namespace'>[];

  private constructor(path: string, policy: Policy) {
    this.#path = path;
    this.#policy = policy;
    this.#byHash = new Map(policy.tokens.map((entry) => [entry.sha256, entry]));
    this.#ssoAccounts = (policy.serviceAccounts ?? []).map((entry) => ({ name: entry.name, rbacRule: candidateRule(entry.rbacRule), precedence: entry.precedence ?? 0 }));
  }

  /** Reads the policy file; a missing file is an empty policy (no token is accepted yet). */
  static async load(path: string): Promise<PolicyFileAuthorizer> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new PolicyFileAuthorizer(path, { tokens: [] });
      throw error;
    }
    return new PolicyFileAuthorizer(path, parsePolicy(path, text));
  }

  async authenticate(token: string): Promise<Identity | undefined> {
    const entry = this.#byHash.get(hashToken(token));
    return entry && { mode: 'client', subject: entry.subject, groups: entry.groups ?? [] };
  }

  async can(identity: Identity, request: PermissionRequest): Promise<boolean> {
    if (identity.mode === 'server') return true;
    const account = identity.serviceAccount;
    if (account !== undefined) {
      return (this.#policy.serviceAccounts ?? []).some((entry) => entry.name === account.name && entry.rules.some((rule) => ruleAllows(rule, request)));
    }
    return this.#policy.tokens
      .filter((entry) => entry.subject === identity.subject)
      .some((entry) => entry.rules.some((rule) => ruleAllows(rule, request)));
  }

  /** The policy's ServiceAccounts as SSO candidates in `namespace` (the runtime's). */
  serviceAccountCandidates(namespace: string): ServiceAccountCandidate[] {
    return this.#ssoAccounts.map((account) => ({ ...account, namespace }));
  }

  /**
   * Makes a new admin token (all verbs, resources and namespaces), replacing the previous admin entry,
   * and stores only its hash. `ARGOSYNC_ADMIN_TOKEN` fixes the token instead of generating one.
   * Returns the token: the only time it exists in clear.
   */
  async createAdminToken(env: NodeJS.ProcessEnv = process.env): Promise<string> {
    const token = env.ARGOSYNC_ADMIN_TOKEN || randomBytes(32).toString('base64url');
    const admin: PolicyToken = { subject: ADMIN_SUBJECT, sha256: hashToken(token), rules: ADMIN_RULES };
    const policy: Policy = { ...this.#policy, tokens: [...this.#policy.tokens.filter((e) => e.subject !== ADMIN_SUBJECT), admin] };
    await writePolicy(this.#path, policy);
    this.#policy = policy;
    this.#byHash = new Map(policy.tokens.map((entry) => [entry.sha256, entry]));
    return token;
  }
}

function ruleAllows(rule: PolicyRule, request: PermissionRequest): boolean {
  const matches = (list: readonly string[], value: string) => list.includes('*') || list.includes(value);
  return matches(rule.verbs, request.verb) && matches(rule.resources, request.resource) && matches(rule.namespaces, request.namespace);
}

async function writePolicy(path: string, policy: Policy): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const header = '# argosync access policy: tokens are stored as SHA-256 hashes, never in clear.\n';
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, header + stringify(policy), { mode: 0o600 });
  await rename(temporary, path);
}

/** The list under `key` (absent: empty); anything else is a problem, and reads as empty. */
function listAt(document: unknown, key: string, problems: string[]): unknown[] {
  const value = (document as Record<string, unknown>)[key] ?? [];
  if (Array.isArray(value)) return value;
  problems.push(`${key} must be a list`);
  return [];
}

/** Validates the whole file and reports every problem at once, each with its path. */
export function parsePolicy(path: string, text: string): Policy {
  let document: unknown;
  try {
    document = parse(text) ?? {};
  } catch (error) {
    throw new Error(`policy file ${path} is not valid YAML: ${(error as Error).message}`);
  }
  const problems: string[] = [];
  const parsed = listAt(document, 'tokens', problems).map((raw: unknown, i): PolicyToken => {
    const entry = (raw ?? {}) as Record<string, unknown>;
    const at = `tokens[${i}]`;
    if (typeof entry.subject !== 'string' || entry.subject === '') problems.push(`${at}.subject must be a non-empty string`);
    if (typeof entry.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(entry.sha256)) {
      problems.push(`${at}.sha256 must be 64 lower-case hex characters (the SHA-256 of the token)`);
    }
    if (entry.groups !== undefined && !isStringList(entry.groups)) problems.push(`${at}.groups must be a list of strings`);
    checkRules(entry.rules, at, problems);
    return entry as unknown as PolicyToken;
  });
  const names = new Set<string>();
  const serviceAccounts = listAt(document, 'serviceAccounts', problems).map((raw: unknown, i): PolicyServiceAccount => {
    const entry = (raw ?? {}) as Record<string, unknown>;
    const at = `serviceAccounts[${i}]`;
    if (typeof entry.name !== 'string' || entry.name === '') problems.push(`${at}.name must be a non-empty string`);
    // Authorization looks rules up by name: a second entry of the same name would add its rules to the first's users.
    else if (names.has(entry.name)) problems.push(`${at}.name ${JSON.stringify(entry.name)} is used by an earlier entry`);
    else names.add(entry.name);
    if (typeof entry.rbacRule !== 'string') {
      problems.push(`${at}.rbacRule must be a string such as "'admins' in groups"`);
    } else {
      try {
        parseRule(entry.rbacRule);
      } catch (error) {
        problems.push(`${at}.rbacRule: ${(error as Error).message}`);
      }
    }
    if (entry.precedence !== undefined && !Number.isInteger(entry.precedence)) problems.push(`${at}.precedence must be an integer`);
    checkRules(entry.rules, at, problems);
    return entry as unknown as PolicyServiceAccount;
  });
  if (problems.length > 0) throw new Error(`policy file ${path} is invalid: ${problems.join('; ')}`);
  return { tokens: parsed, ...(serviceAccounts.length > 0 ? { serviceAccounts } : {}) };
}

function checkRules(rules: unknown, at: string, problems: string[]): void {
  if (!Array.isArray(rules)) problems.push(`${at}.rules must be a list`);
  (Array.isArray(rules) ? rules : []).forEach((rule: unknown, j) => {
    for (const key of ['verbs', 'resources', 'namespaces'] as const) {
      if (!isStringList((rule as Record<string, unknown> | null)?.[key])) {
        problems.push(`${at}.rules[${j}].${key} must be a list of strings ("*" matches any)`);
      }
    }
  });
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
