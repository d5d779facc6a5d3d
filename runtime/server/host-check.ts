import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { RequestOrigin } from './request-origin.js';

/** `Host: [::1]:2746` → `[::1]`, `Host: Example.COM:8080` → `example.com`. */
export function hostnameOf(host: string): string {
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}

/**
 * DNS rebinding defence for a server bound to loopback: a web page whose name an attacker re-pointed at
 * 127.0.0.1 still sends its own name in `Host`, so any name not the server's own (loopback's, the bound
 * address, `--allowed-hosts`) is refused before anything else runs. One Set lookup per request.
 */
export function registerHostCheck(app: FastifyInstance, site: RequestOrigin): void {
  // A callback hook: no promise per request on the read path.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const host = request.headers.host ?? '';
    if (site.isOwnHost(host)) {
      done();
      return;
    }
    void reply.code(403).send({
      code: 7,
      message: `host ${JSON.stringify(host.slice(0, 256))} is not allowed: this server listens on a loopback address and answers only localhost, 127.0.0.1 and [::1]; list other names with --allowed-hosts`,
    });
  });
}
