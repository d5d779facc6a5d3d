import { InvalidArgumentError } from '../../errors.js';

export type AuthMode = 'server' | 'client';

/** How one request is authenticated, chosen from its headers and the enabled modes. */
export type AuthSelection =
  | { readonly mode: 'client'; readonly token: string }
  | { readonly mode: 'server' }
  | { readonly mode: 'none' };

/**
 * Parses `--auth-mode` values. Argo's legacy `hybrid` means `client` + `server`; `sso` is not offered by
 * argosync, and anything else is refused by name, as Argo refuses an "invalid mode".
 */
export function parseAuthModes(values: readonly string[]): AuthMode[] {
  const modes = new Set<AuthMode>();
  for (const value of values.flatMap((v) => v.split(','))) {
    const mode = value.trim();
    if (mode === 'hybrid') {
      modes.add('client').add('server');
    } else if (mode === 'client' || mode === 'server') {
      modes.add(mode);
    } else {
      throw new InvalidArgumentError(`--auth-mode must be "client" or "server" (repeatable), got "${value}"`);
    }
  }
  if (modes.size === 0) throw new InvalidArgumentError('--auth-mode needs at least one of "client", "server"');
  return [...modes];
}

/**
 * Argo's per-request selection (`server/auth/mode.go`): the credential comes from the `Authorization`
 * header or, for the browser UI, an `authorization` cookie; a `Bearer ` credential selects `client` mode
 * when it is enabled; otherwise the request acts as the server when `server` mode is enabled; otherwise it
 * is unauthenticated.
 */
export function selectAuthMode(
  modes: readonly AuthMode[],
  authorizationHeader: string | undefined,
  cookieHeader: string | undefined,
): AuthSelection {
  const credential = authorizationHeader || authorizationCookie(cookieHeader);
  if (modes.includes('client') && credential !== undefined && /^Bearer /i.test(credential)) {
    const token = credential.slice('Bearer '.length).trim();
    if (token !== '') return { mode: 'client', token };
  }
  return modes.includes('server') ? { mode: 'server' } : { mode: 'none' };
}

export function authorizationCookie(cookieHeader: string | undefined): string | undefined {
  for (const pair of cookieHeader?.split(';') ?? []) {
    const separator = pair.indexOf('=');
    if (separator > 0 && pair.slice(0, separator).trim() === 'authorization') {
      const raw = pair.slice(separator + 1).trim().replace(/^"|"$/g, '');
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return undefined;
}
