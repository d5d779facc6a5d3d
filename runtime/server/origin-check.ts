import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { AUTHORIZATION_COOKIE, cookieValue } from './auth/cookies.js';
import type { RequestOrigin } from './request-origin.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cross-site request forgery defence (SPEC §7.6): a state-changing request authenticated by the browser's
 * `authorization` cookie, or sent by a browser without a token (server auth mode), must come from a page of
 * this server: `Sec-Fetch-Site: same-origin`, or an `Origin` equal to this server's. Clients that send a token
 * header (CLI, provider) are not affected. Behind a TLS-terminating proxy listed in `--trusted-proxies`, this
 * server's origin is the one the proxy forwards (`X-Forwarded-Proto`, `X-Forwarded-Host`); from any other peer
 * those headers are ignored.
 */
export function registerOriginCheck(app: FastifyInstance, site: RequestOrigin): void {
  // A callback hook: no promise per request on the read path.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (sameOriginOrNotABrowser(request, site)) {
      done();
      return;
    }
    void reply.code(403).send({
      code: 7,
      message: "cross-origin request refused: a change made with the browser's session must come from this server's own pages (same-origin Origin or Sec-Fetch-Site)",
    });
  });
}

function sameOriginOrNotABrowser(request: FastifyRequest, site: RequestOrigin): boolean {
  // A token header is something a foreign page cannot make the browser add by itself.
  if (SAFE_METHODS.has(request.method) || request.headers.authorization) return true;
  const fetchSite = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  if (fetchSite === 'same-origin') return true;
  if (origin !== undefined) {
    const seen = site.seenAs(request);
    return seen !== undefined && origin === `${seen.scheme}://${seen.host}`;
  }
  // Neither a cookie nor a browser's marks: a command-line client of a server-mode runtime.
  return fetchSite === undefined && cookieValue(request.headers.cookie, AUTHORIZATION_COOKIE) === undefined;
}
