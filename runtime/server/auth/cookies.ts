/**
 * The one place that reads cookies from a request's `Cookie` header: the `authorization` session cookie
 * (SPEC §7.6 and §7.7 call it the browser's credential) and the SSO sign-in cookie. Values Go quoted
 * (`authorization="Bearer v2:…"`) or percent-encoded are returned bare.
 */
export function cookieValue(cookieHeader: string | undefined, name: string): string | undefined {
  for (const pair of cookieHeader?.split(';') ?? []) {
    const separator = pair.indexOf('=');
    if (separator > 0 && pair.slice(0, separator).trim() === name) {
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

/** The browser's credential cookie, shared by every auth mode. */
export const AUTHORIZATION_COOKIE = 'authorization';

export interface CookieAttributes {
  readonly path: string;
  readonly expires: Date;
  readonly sameSite: 'Strict' | 'Lax';
  readonly secure: boolean;
  readonly httpOnly: boolean;
}

/**
 * A `Set-Cookie` value. A value with a space is sent in double quotes, as Go's `net/http` does for Argo's
 * `authorization="Bearer v2:…"`, so Argo's UI and servers read ours unchanged.
 */
export function setCookie(name: string, value: string, attributes: CookieAttributes): string {
  const shown = value.includes(' ') ? `"${value}"` : value;
  return [
    `${name}=${shown}`,
    `Path=${attributes.path}`,
    `Expires=${attributes.expires.toUTCString()}`,
    ...(attributes.httpOnly ? ['HttpOnly'] : []),
    ...(attributes.secure ? ['Secure'] : []),
    `SameSite=${attributes.sameSite}`,
  ].join('; ');
}
