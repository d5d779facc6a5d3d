import { InvalidArgumentError } from '../../errors.js';
import { AUTHORIZATION_COOKIE, cookieValue } from './cookies.js';
import { SESSION_PREFIX } from './sso/session-prefix.js';

export type AuthMode = 'server' | 'client' | 'sso';

/** How one request is authenticated, chosen from its headers and the enabled modes. */
export type AuthSelection =
  | { readonly mode: 'sso'; readonly session: string }
  | { readonly mode: 'client'; readonly token: string }
  | { readonly mode: 'server' }
  | { readonly mode: 'none' };

/**
 * Parses `--auth-mode` values. Argo's legacy `hybrid` means `client` + `server`; anything else is refused
 * by name, as Argo refuses an "invalid mode".
 */
export function parseAuthModes(values: readonly string[]): AuthMode[] {
  const modes = new Set<AuthMode>();
  for (const value of values.flatMap((v) => v.split(','))) {
    const mode = value.trim();
    if (mode === 'hybrid') {
      modes.add('client').add('server');
    } else if (mode === 'client' || mode === 'server' || mode === 'sso') {
      modes.add(mode);
    } else {
      throw new InvalidArgumentError(`--auth-mode must be "client", "server" or "sso" (repeatable), got "${value}"`);
    }
  }
  if (modes.size === 0) throw new InvalidArgumentError('--auth-mode needs at least one of "client", "server", "sso"');
  return [...modes];
}

/**
 * Argo's per-request selection (`server/auth/mode.go`): the credential comes from the `Authorization`
 * header or, for the browser UI, an `authorization` cookie; a `Bearer v2:` credential selects `sso` mode
 * when it is enabled; a `Bearer ` credential selects `client` mode when it is enabled; otherwise the request
 * acts as the server when `server` mode is enabled; otherwise it is unauthenticated. The first row that
 * matches decides: a session that then fails its check never falls back to another mode.
 */
export function selectAuthMode(
  modes: readonly AuthMode[],
  authorizationHeader: string | undefined,
  cookieHeader: string | undefined,
): AuthSelection {
  const credential = authorizationHeader || cookieValue(cookieHeader, AUTHORIZATION_COOKIE);
  if (modes.includes('sso') && credential?.startsWith(SESSION_PREFIX)) return { mode: 'sso', session: credential };
  if (modes.includes('client') && credential !== undefined && /^Bearer /i.test(credential)) {
    const token = credential.slice('Bearer '.length).trim();
    if (token !== '') return { mode: 'client', token };
  }
  return modes.includes('server') ? { mode: 'server' } : { mode: 'none' };
}
