import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

/** The names a loopback server always answers to (SPEC §7.6), whatever the port. */
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/** `Host: [::1]:2746` → `[::1]`, `Host: Example.COM:8080` → `example.com`. */
export function hostnameOf(host: string): string {
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}

/**
 * DNS rebinding defence for a server bound to loopback: a web page whose name an attacker re-pointed at
 * 127.0.0.1 still sends its own name in `Host`, so any name other than loopback's or `--allowed-hosts` is
 * refused before anything else runs. One Set lookup per request.
 */
export function registerHostCheck(app: FastifyInstance, allowedHosts: readonly string[]): void {
  const allowed = new Set([...LOOPBACK_HOSTS, ...allowedHosts.map(hostnameOf)]);
  // A callback hook: no promise per request on the read path.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const host = request.headers.host ?? '';
    if (allowed.has(hostnameOf(host))) {
      done();
      return;
    }
    void reply.code(403).send({
      code: 7,
      message: `host ${JSON.stringify(host.slice(0, 256))} is not allowed: this server listens on a loopback address and answers only localhost, 127.0.0.1 and [::1]; list other names with --allowed-hosts`,
    });
  });
}
