import { createHash } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { SignInChecks } from './identity-provider.js';

/** The cookie that carries one sign-in from `/oauth2/redirect` to `/oauth2/callback`. */
export const SIGN_IN_COOKIE = 'argosync-sso';
export const SIGN_IN_LIFETIME_MS = 3 * 60_000;

export interface SignInState extends SignInChecks {
  /** A path on this server (already checked by `safeRedirect`). */
  readonly destination: string;
}

/** A key of its own for this cookie, so that it can never be taken for a session. */
function stateKey(contentKey: Uint8Array): Uint8Array {
  return createHash('sha256').update('argosync sign-in state\0').update(contentKey).digest();
}

/** The state, nonce, PKCE verifier and destination, encrypted and authenticated (A256GCM), valid 3 minutes. */
export async function sealSignIn(contentKey: Uint8Array, state: SignInState, nowMs: number): Promise<string> {
  return new EncryptJWT({ ...state })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setExpirationTime(Math.floor((nowMs + SIGN_IN_LIFETIME_MS) / 1000))
    .encrypt(stateKey(contentKey));
}

/** The sign-in the cookie carries, or undefined when it is absent, tampered with or expired. */
export async function openSignIn(contentKey: Uint8Array, sealed: string | undefined, nowMs: number): Promise<SignInState | undefined> {
  if (sealed === undefined || sealed === '') return undefined;
  try {
    const { payload } = await jwtDecrypt(sealed, stateKey(contentKey), {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
      currentDate: new Date(nowMs),
    });
    const { state, nonce, codeVerifier, destination } = payload;
    if ([state, nonce, codeVerifier, destination].every((value) => typeof value === 'string')) {
      return { state, nonce, codeVerifier, destination } as SignInState;
    }
  } catch {
    // absent, tampered with or expired: the caller answers 400
  }
  return undefined;
}
