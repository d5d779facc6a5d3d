import { InvalidArgumentError } from '../errors.js';

/**
 * Normalises `--base-href` to `/` or `/<path>/` (leading and trailing slash, as Argo rewrites it),
 * so `argo`, `/argo` and `/argo/` all mean the same.
 */
export function normaliseBaseHref(value: string): string {
  const trimmed = value.trim().replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '/';
  if (!/^[A-Za-z0-9._~!$&'()*+,;=:@%/-]+$/.test(trimmed) || trimmed.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new InvalidArgumentError(`--base-href must be a URL path such as /argo/, got "${value}"`);
  }
  return `/${trimmed}/`;
}

/**
 * Maps a request URL onto the routes, which are all mounted at `/`: a proxy may forward the prefixed
 * path (`/argo/api/v1/version`) or strip the prefix first (`/api/v1/version`, what Argo requires); both
 * must work. Only a whole leading segment match is stripped, so `/argonaut` is left alone.
 */
export function stripBaseHref(url: string, baseHref: string): string {
  if (baseHref === '/') return url;
  const bare = baseHref.slice(0, -1);
  if (url === bare) return '/';
  if (url.startsWith(baseHref)) return url.slice(bare.length);
  if (url.startsWith(`${bare}?`)) return `/${url.slice(bare.length)}`;
  return url;
}

/** Sets `<base href="…">` in an HTML page (the UI's index), adding the tag to `<head>` when absent. */
export function injectBaseHref(html: string, baseHref: string): string {
  const tag = `<base href="${baseHref}">`;
  if (/<base\s[^>]*>/i.test(html)) return html.replace(/<base\s[^>]*>/i, tag);
  return html.replace(/<head(\s[^>]*)?>/i, (head) => `${head}${tag}`);
}
