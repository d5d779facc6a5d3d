import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { RequestOrigin } from './request-origin.js';

/** `Host: [::1]:2746` → `[::1]`, `Host: Example.COM:8080` → `example.com`. */
export function hostnameOf(host: string): string {
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}

/** Node keeps the first of several `Host` headers; a proxy in front may have routed on another (RFC 9112 §3.2: 400). */
function hostCount(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) if (rawHeaders[index]!.toLowerCase() === 'host') count += 1;
  return count;
}

/**
 * The `Host` rules, before any route runs. An HTTP/1.1 request without `Host`, or any request with two, is a
 * 400 `{code, message}` here rather than Node's own bodyless 400 (SPEC §7.6: every error has that shape; the
 * Node servers are built with `requireHostHeader: false` for this). With `ownNamesOnly` (a server bound to
 * loopback), the DNS rebinding defence: a web page whose name an attacker re-pointed at 127.0.0.1 still sends
 * its own name in `Host`, so any name not the server's own (loopback's, the bound address, `--allowed-hosts`)
 * is refused. A pass over the raw header names and one Set lookup per request.
 */
export function registerHostCheck(app: FastifyInstance, site: RequestOrigin, ownNamesOnly: boolean): void {
  // A callback hook: no promise per request on the read path.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const host = request.headers.host;
    if ((host === undefined && request.raw.httpVersion === '1.1') || hostCount(request.raw.rawHeaders) > 1) {
      void reply.code(400).send({ code: 3, message: 'the request must carry exactly one Host header' });
      return;
    }
    if (!ownNamesOnly || site.isOwnHost(host ?? '')) {
      done();
      return;
    }
    void reply.code(403).send({
      code: 7,
      message: `host ${JSON.stringify((host ?? '').slice(0, 256))} is not allowed: this server listens on a loopback address and answers only localhost, 127.0.0.1 and [::1]; list other names with --allowed-hosts`,
    });
  });
}
