import { X509Certificate } from 'node:crypto';
import type { ConfigProblem } from './config-problems.js';
import { parseGoDuration } from './duration.js';
import { goDuration, HOUR_MS } from './duration-schema.js';
import type { SecretKeySelector, SecretSource } from './runtime-config.js';

/** The `sso` section (SPEC §7.7): Argo's `SSOConfig` keys, with argosync's inline `…Value` credentials. */
export interface SsoConfig {
  readonly issuer: string;
  readonly issuerAlias?: string;
  readonly clientId: SecretSource;
  readonly clientSecret: SecretSource;
  /** Undefined: built per request from the origin the browser used, when it names this server (`--allowed-hosts`, the bound address, loopback). */
  readonly redirectUrl?: string;
  /** As configured, with `openid` appended (always, as Argo). */
  readonly scopes: readonly string[];
  readonly sessionExpiryMs: number;
  readonly rbacEnabled: boolean;
  readonly customGroupClaimName?: string;
  readonly userInfoPath?: string;
  readonly insecureSkipVerify: boolean;
  readonly filterGroupsRegex: readonly string[];
  /** PEM, trusted besides the system's certificate authorities for every call to the identity provider. */
  readonly rootCA?: string;
}

const text = { type: 'string', minLength: 1 };
const MAX_SESSION_EXPIRY_MS = 720 * HOUR_MS;
const secretKeySelector = {
  type: 'object',
  properties: { name: text, key: text, optional: { type: 'boolean' } },
  required: ['name', 'key'],
  additionalProperties: false,
};

/** The JSON schema of the section; ajv reports unknown keys and wrong types with their paths. */
export const ssoSchema = {
  type: 'object',
  properties: {
    issuer: text,
    issuerAlias: text,
    clientId: secretKeySelector,
    clientSecret: secretKeySelector,
    clientIdValue: text,
    clientSecretValue: text,
    redirectUrl: text,
    scopes: { type: 'array', items: text },
    // A session cannot be revoked before it expires (only by replacing the key): a month at most.
    sessionExpiry: goDuration(0, MAX_SESSION_EXPIRY_MS, '0 and 720h'),
    rbac: { type: 'object', properties: { enabled: { type: 'boolean' } }, additionalProperties: false },
    customGroupClaimName: text,
    userInfoPath: { type: 'string', pattern: '^/' },
    insecureSkipVerify: { type: 'boolean' },
    filterGroupsRegex: { type: 'array', items: { type: 'string' } },
    rootCA: text,
  },
  required: ['issuer'],
  additionalProperties: false,
} as const;

/** The section as written, after schema validation. */
export interface RawSsoSection {
  readonly issuer: string;
  readonly issuerAlias?: string;
  readonly clientId?: SecretKeySelector;
  readonly clientSecret?: SecretKeySelector;
  readonly clientIdValue?: string;
  readonly clientSecretValue?: string;
  readonly redirectUrl?: string;
  readonly scopes?: readonly string[];
  readonly sessionExpiry?: string;
  readonly rbac?: { readonly enabled?: boolean };
  readonly customGroupClaimName?: string;
  readonly userInfoPath?: string;
  readonly insecureSkipVerify?: boolean;
  readonly filterGroupsRegex?: readonly string[];
  readonly rootCA?: string;
}

const DEFAULT_SESSION_EXPIRY_MS = 10 * HOUR_MS;

/** Checks what a schema cannot (URLs, durations, regular expressions, certificates) and applies Argo's defaults. */
export function readSsoSection(raw: RawSsoSection, problems: ConfigProblem[]): SsoConfig {
  for (const key of ['issuer', 'issuerAlias', 'redirectUrl'] as const) {
    const value = raw[key];
    if (value !== undefined && !isHttpUrl(value)) problems.push({ path: `sso.${key}`, reason: `must be an http(s) URL (got ${JSON.stringify(value)})` });
  }
  const clientId = credential(raw.clientId, raw.clientIdValue, 'clientId', problems);
  const clientSecret = credential(raw.clientSecret, raw.clientSecretValue, 'clientSecret', problems);
  const expiry = raw.sessionExpiry === undefined ? undefined : parseGoDuration(raw.sessionExpiry);
  if (raw.sessionExpiry !== undefined && expiry === undefined) {
    problems.push({ path: 'sso.sessionExpiry', reason: `must be a Go duration such as 10h or 240h (got ${JSON.stringify(raw.sessionExpiry)})` });
  }
  (raw.filterGroupsRegex ?? []).forEach((pattern, i) => {
    try {
      new RegExp(pattern, 'u');
    } catch (error) {
      problems.push({ path: `sso.filterGroupsRegex[${i}]`, reason: `is not a valid regular expression: ${(error as Error).message}` });
    }
  });
  if (raw.rootCA !== undefined && !isPemCertificates(raw.rootCA)) {
    problems.push({ path: 'sso.rootCA', reason: 'must hold one or more PEM certificates (-----BEGIN CERTIFICATE-----)' });
  }
  return {
    issuer: raw.issuer,
    ...(raw.issuerAlias === undefined ? {} : { issuerAlias: raw.issuerAlias }),
    clientId,
    clientSecret,
    ...(raw.redirectUrl === undefined ? {} : { redirectUrl: raw.redirectUrl }),
    scopes: [...(raw.scopes ?? []), 'openid'],
    // Argo: absent or ≤ 0 means 10h.
    sessionExpiryMs: expiry !== undefined && expiry > 0 ? expiry : DEFAULT_SESSION_EXPIRY_MS,
    rbacEnabled: raw.rbac?.enabled ?? false,
    ...(raw.customGroupClaimName === undefined ? {} : { customGroupClaimName: raw.customGroupClaimName }),
    ...(raw.userInfoPath === undefined ? {} : { userInfoPath: raw.userInfoPath }),
    insecureSkipVerify: raw.insecureSkipVerify ?? false,
    filterGroupsRegex: raw.filterGroupsRegex ?? [],
    ...(raw.rootCA === undefined ? {} : { rootCA: raw.rootCA }),
  };
}

function credential(ref: SecretKeySelector | undefined, inline: string | undefined, key: string, problems: ConfigProblem[]): SecretSource {
  if (ref !== undefined && inline !== undefined) problems.push({ path: `sso.${key}Value`, reason: `give either ${key} (a Secret reference) or ${key}Value, not both` });
  if (inline !== undefined) return { inline };
  if (ref !== undefined) return { secretKeyRef: ref };
  problems.push({ path: `sso.${key}`, reason: `required: a Secret reference {name, key}, or ${key}Value outside Kubernetes` });
  return { inline: '' };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function isPemCertificates(pem: string): boolean {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return false;
  try {
    for (const block of blocks) new X509Certificate(block);
    return true;
  } catch {
    return false;
  }
}
