/**
 * Where the browser goes after signing in: `redirect` only when it is a path on this server, never
 * `//host`, `/\host`, a scheme, or a path with dot segments or control characters that a browser could
 * resolve to another origin; otherwise the base href.
 */
export function safeRedirect(redirect: unknown, baseHref: string): string {
  if (typeof redirect !== 'string' || redirect.length > 2048) return baseHref;
  if (!redirect.startsWith('/') || redirect.includes('\\') || [...redirect].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f)) return baseHref;
  if (/^\/[\s/]/.test(redirect)) return baseHref;
  const path = redirect.split(/[?#]/, 1)[0]!;
  if (path.split('/').some((segment) => segment === '.' || segment === '..' || /^%2e/i.test(segment))) return baseHref;
  try {
    if (new URL(redirect, 'https://argosync.invalid').origin !== 'https://argosync.invalid') return baseHref;
  } catch {
    return baseHref;
  }
  return redirect;
}
