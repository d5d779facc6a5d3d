import { createHash } from 'node:crypto';
import { compactDecrypt, CompactEncrypt } from 'jose';
import { SESSION_PREFIX } from './session-prefix.js';

/** The claims of an SSO session, with Argo's JSON names (`server/auth/types/claims.go`). */
export interface SessionClaims {
  readonly iss: string;
  readonly sub: string;
  /** Seconds since the epoch. */
  readonly exp: number;
  readonly groups?: readonly string[];
  readonly email?: string;
  readonly name?: string;
  readonly preferred_username?: string;
  readonly service_account_name?: string;
  readonly service_account_namespace?: string;
}

/** The optional string claims a session carries, copied from the ID token when it has them. */
export const SESSION_STRING_CLAIMS = ['email', 'name', 'preferred_username', 'service_account_name', 'service_account_namespace'] as const;

/** What Argo puts in `iss`; a session with another issuer is refused. */
export const SESSION_ISSUER = 'argo-server';
const PROTECTED_HEADER = { alg: 'dir', enc: 'A256GCM', zip: 'DEF' } as const;
/** go-jose's default leeway on `exp`, which Argo keeps. */
const EXPIRY_LEEWAY_SECONDS = 60;

/** Argo v4.1.2's content key: the SHA-256 of the RSA key's PKCS#1 DER, used directly (`dir`). */
export function sessionContentKey(pkcs1Der: Uint8Array): Uint8Array {
  return createHash('sha256').update(pkcs1Der).digest();
}

/** `Bearer v2:<JWE>`, the value Argo v4.1.2 puts in the cookie (and its CLI takes as `ARGO_TOKEN`). */
export async function mintSession(contentKey: Uint8Array, claims: SessionClaims): Promise<string> {
  const payload = new TextEncoder().encode(JSON.stringify(withoutEmpty(claims)));
  const jwe = await new CompactEncrypt(payload).setProtectedHeader(PROTECTED_HEADER).encrypt(contentKey);
  return `${SESSION_PREFIX}${jwe}`;
}

/**
 * The claims of a `Bearer v2:` value, or the reason it is refused: not one of ours, tampered with, not
 * Argo's header, issued by another issuer, or expired (with one minute's leeway).
 */
export async function readSession(contentKey: Uint8Array, value: string, nowMs: number): Promise<SessionClaims | { readonly refused: string }> {
  if (!value.startsWith(SESSION_PREFIX)) return { refused: 'not an SSO session' };
  let plaintext: Uint8Array;
  try {
    const decrypted = await compactDecrypt(value.slice(SESSION_PREFIX.length), contentKey, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    plaintext = decrypted.plaintext;
  } catch {
    return { refused: 'failed to decrypt token' };
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder().decode(plaintext));
  } catch {
    return { refused: 'failed to parse token claims' };
  }
  if (!isSessionClaims(claims)) return { refused: 'failed to validate claims: malformed claims' };
  if (claims.iss !== SESSION_ISSUER) return { refused: 'failed to validate claims: invalid issuer claim (iss)' };
  if (claims.exp + EXPIRY_LEEWAY_SECONDS < nowMs / 1000) return { refused: 'failed to validate claims: token is expired (exp)' };
  return claims;
}

function isSessionClaims(value: unknown): value is SessionClaims {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const claims = value as Record<string, unknown>;
  const optionalString = (key: string) => claims[key] === undefined || typeof claims[key] === 'string';
  return (
    typeof claims.iss === 'string' &&
    typeof claims.sub === 'string' &&
    typeof claims.exp === 'number' &&
    (claims.groups === undefined || (Array.isArray(claims.groups) && claims.groups.every((g) => typeof g === 'string'))) &&
    SESSION_STRING_CLAIMS.every(optionalString)
  );
}

/** Argo's claims are all `omitempty`, which keeps the cookie small. */
function withoutEmpty(claims: SessionClaims): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0)));
}
