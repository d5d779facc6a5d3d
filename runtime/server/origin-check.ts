import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { AUTHORIZATION_COOKIE, cookieValue } from './auth/cookies.js';
import type { RequestOrigin } from './request-origin.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cross-site request forgery and DNS rebinding defence (SPEC §7.6): a state-changing request authenticated by
 * the browser's `authorization` cookie, or sent by a browser without a token (server auth mode), must come from
 * a page of this server: `Sec-Fetch-Site: same-origin`, or an `Origin` equal to this server's. Clients that
 * send a token header (CLI, provider) are not affected. "This server" is one of its own names (loopback's when
 * bound there or to every interface, the bound address, `--allowed-hosts`): a page on a name an attacker
 * re-pointed at this server is same-origin with itself, and its `Host` and `Origin` agree. Behind a
 * TLS-terminating proxy listed in `--trusted-proxies`, this server's origin is the one the proxy forwards
 * (`X-Forwarded-Proto`, `X-Forwarded-Host`); from any other peer those headers are ignored.
 */
export function registerOriginCheck(app: FastifyInstance, site: RequestOrigin): void {
  // A callback hook: no promise per request on the read path.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const refusal = crossOriginRefusal(request, site);
    if (refusal === undefined) {
      done();
      return;
    }
    void reply.code(403).send({ code: 7, message: refusal });
  });
}

const CROSS_ORIGIN =
  "cross-origin request refused: a change made with the browser's session must come from this server's own pages (same-origin Origin or Sec-Fetch-Site)";

/** Why the request is refused, or undefined when it may go on. */
function crossOriginRefusal(request: FastifyRequest, site: RequestOrigin): string | undefined {
  // A token header is something a foreign page cannot make the browser add by itself.
  if (SAFE_METHODS.has(request.method) || request.headers.authorization) return undefined;
  const fetchSite = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  // Neither a cookie nor a browser's marks: a command-line client of a server-mode runtime.
  if (origin === undefined && fetchSite === undefined && cookieValue(request.headers.cookie, AUTHORIZATION_COOKIE) === undefined) return undefined;
  const seen = site.seenAs(request);
  if (seen === undefined || !site.isOwnHost(seen.host)) {
    const host = seen?.host ?? request.headers.host ?? '';
    return `cross-origin request refused: ${JSON.stringify(host.slice(0, 256))} is not a name of this server, so no page on it is this server's own; list the name with --allowed-hosts`;
  }
  return fetchSite === 'same-origin' || origin === `${seen.scheme}://${seen.host}` ? undefined : CROSS_ORIGIN;
}
