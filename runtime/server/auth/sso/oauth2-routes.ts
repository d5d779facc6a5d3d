import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../../clock.js';
import type { SsoConfig } from '../../../config/sso-section.js';
import type { RequestOrigin } from '../../request-origin.js';
import { AUTHORIZATION_COOKIE, cookieValue, setCookie } from '../cookies.js';
import { IdentityProvider, SignInFailure } from './identity-provider.js';
import { safeRedirect } from './safe-redirect.js';
import { claimsProblem } from './claim-bounds.js';
import { mintSession, SESSION_ISSUER, SESSION_STRING_CLAIMS, type SessionClaims } from './session-cookie.js';
import { openSignIn, sealSignIn, SIGN_IN_COOKIE, SIGN_IN_LIFETIME_MS } from './sign-in-state.js';

export interface OAuth2RouteOptions {
  readonly sso: SsoConfig;
  readonly provider: IdentityProvider;
  readonly contentKey: Uint8Array;
  readonly baseHref: string;
  /** The server terminates TLS: cookies get `Secure`. */
  readonly secure: boolean;
  /** Without `redirectUrl`, the callback URL is built on the origin the browser used, if it names this server. */
  readonly site: RequestOrigin;
  readonly clock: Clock;
}

const EPOCH = new Date(0);

/**
 * `/oauth2/redirect`, `/oauth2/callback` and `/oauth2/logout` (SPEC §7.7). They sit at the root, so they also
 * answer under the base href (the app strips it). Failures are a short page saying what failed.
 */
export const oauth2Routes: FastifyPluginAsync<OAuth2RouteOptions> = async (app, options) => {
  const { sso, provider, contentKey, baseHref, secure, site, clock } = options;
  const filters = sso.filterGroupsRegex.map((pattern) => new RegExp(pattern, 'u'));
  const signInCookie = (value: string, expires: Date) =>
    // Path `/`: the callback URL registered at the provider may or may not carry the base href (Argo #12660).
    setCookie(SIGN_IN_COOKIE, value, { path: '/', expires, sameSite: 'Lax', secure, httpOnly: true });

  app.get<{ Querystring: { redirect?: string } }>('/oauth2/redirect', async (request, reply) => {
    const callback = redirectUri(request, sso, baseHref, site);
    if (callback === undefined) return failure(reply, baseHref, 400, NOT_OWN_HOST);
    const checks = IdentityProvider.newChecks();
    const destination = safeRedirect(request.query.redirect, baseHref);
    const now = clock.now();
    const sealed = await sealSignIn(contentKey, { ...checks, destination }, now);
    const target = await provider.authorizationUrl(callback, checks);
    return reply.header('set-cookie', signInCookie(sealed, new Date(now + SIGN_IN_LIFETIME_MS))).header('cache-control', 'no-store').redirect(target.href, 302);
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/oauth2/callback', async (request, reply) => {
    reply.header('set-cookie', signInCookie('', EPOCH)).header('cache-control', 'no-store');
    const now = clock.now();
    const signIn = await openSignIn(contentKey, cookieValue(request.headers.cookie, SIGN_IN_COOKIE), now);
    if (signIn === undefined) return failure(reply, baseHref, 400, 'The sign-in cookie is missing or expired (sign-ins must finish within 3 minutes). Start again.');
    if (request.query.state !== signIn.state) return failure(reply, baseHref, 400, 'The state returned by the identity provider does not match this sign-in. Start again.');
    if (request.query.error !== undefined) return failure(reply, baseHref, 401, `The identity provider refused the sign-in: ${request.query.error.slice(0, 100)}.`);
    const redirect = redirectUri(request, sso, baseHref, site);
    if (redirect === undefined) return failure(reply, baseHref, 400, NOT_OWN_HOST);
    const callback = new URL(redirect);
    callback.search = new URL(request.url, 'http://callback.invalid').search;
    let person;
    try {
      person = await provider.complete(callback, signIn);
    } catch (error) {
      if (error instanceof SignInFailure) {
        request.log.warn({ reason: error.message }, 'SSO sign-in failed');
        return failure(reply, baseHref, error.status, `Sign-in failed: ${error.message}.`);
      }
      throw error;
    }
    const strings = { sub: person.sub, ...stringClaims(person.claims, SESSION_STRING_CLAIMS) };
    const refused = claimsProblem(strings, person.groups);
    if (refused !== undefined) {
      request.log.warn({ reason: refused }, 'SSO sign-in refused');
      return failure(reply, baseHref, 401, `Sign-in refused: ${refused}.`);
    }
    const session: SessionClaims = {
      iss: SESSION_ISSUER,
      ...strings,
      exp: Math.floor((now + sso.sessionExpiryMs) / 1000),
      groups: filters.length === 0 ? person.groups : person.groups.filter((group) => filters.some((filter) => filter.test(group))),
    };
    const value = await mintSession(contentKey, session);
    const cookie = setCookie(AUTHORIZATION_COOKIE, value, { path: baseHref, expires: new Date(now + sso.sessionExpiryMs), sameSite: 'Strict', secure, httpOnly: true });
    if (cookie.length > 4096) request.log.warn({ bytes: cookie.length, groups: session.groups?.length }, 'the session cookie is over 4096 bytes and browsers may drop it: narrow the groups with sso.filterGroupsRegex');
    request.log.info({ subject: session.sub, email: session.email }, 'SSO sign-in');
    return reply.header('set-cookie', [signInCookie('', EPOCH), cookie]).redirect(safeRedirect(signIn.destination, baseHref), 302);
  });

  app.get('/oauth2/logout', async (_request, reply) => {
    reply.header('set-cookie', setCookie(AUTHORIZATION_COOKIE, '', { path: baseHref, expires: EPOCH, sameSite: 'Strict', secure, httpOnly: true })).header('cache-control', 'no-store');
    const endSession = provider.endSessionEndpoint;
    if (endSession === undefined) return reply.redirect(baseHref, 302);
    const target = new URL(endSession);
    target.searchParams.set('client_id', provider.clientId);
    return reply.redirect(target.href, 302);
  });
};

const NOT_OWN_HOST =
  'This server does not know the name it was reached by, so it cannot tell the identity provider where to return. Set sso.redirectUrl, or list the name with --allowed-hosts.';

/**
 * `redirectUrl` when configured; else this server's callback under the base href, as the browser reached it
 * (the `Host`, or `X-Forwarded-Proto`/`-Host` from a trusted TLS-terminating proxy, Argo #13031), but only on a
 * name of this server's own: a `Host` anyone can send must not choose where the provider sends the code.
 */
function redirectUri(request: FastifyRequest, sso: SsoConfig, baseHref: string, site: RequestOrigin): string | undefined {
  if (sso.redirectUrl !== undefined) return sso.redirectUrl;
  const seen = site.seenAs(request);
  return seen !== undefined && site.isOwnHost(seen.host) ? `${seen.scheme}://${seen.host}${baseHref}oauth2/callback` : undefined;
}

function stringClaims(claims: Readonly<Record<string, unknown>>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (Object.hasOwn(claims, name) && typeof claims[name] === 'string' ? [[name, claims[name]]] : [])));
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function failure(reply: FastifyReply, baseHref: string, status: 400 | 401, message: string): FastifyReply {
  const escaped = message.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in failed</title></head><body><h1>Sign-in failed</h1><p>${escaped}</p><p><a href="${baseHref}">Back to argosync</a></p></body></html>`;
  return reply.status(status).type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'").send(page);
}
