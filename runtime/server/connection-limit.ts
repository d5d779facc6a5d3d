import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { rateLimitKey } from './rate-limit.js';
import { plainAddress, type RequestOrigin } from './request-origin.js';

/** Where a trusted proxy reports its client when `--rate-limit-key-headers` names nothing. */
const FORWARDED_FOR = ['x-forwarded-for'];

/** Open connections per client address, never more than `max` each. */
class OpenCounts {
  readonly #open = new Map<string, number>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** Counts one more for `client`, unless it already holds `max`. */
  tryOpen(client: string): boolean {
    const count = (this.#open.get(client) ?? 0) + 1;
    if (count > this.#max) return false;
    this.#open.set(client, count);
    return true;
  }

  close(client: string): void {
    const left = (this.#open.get(client) ?? 1) - 1;
    if (left === 0) this.#open.delete(client);
    else this.#open.set(client, left);
  }
}

/**
 * Caps open connections per client address (SPEC §7.6): one host cannot exhaust the server's sockets with
 * idle or trickling connections. A connection over the cap is closed at once, before TLS or HTTP.
 *
 * A trusted proxy (`--trusted-proxies`) is not one client: its connections carry everyone's requests, so they
 * are not capped themselves. Each request through one instead holds a place of the client the proxy reports,
 * found by the rate limiter's rule (`--rate-limit-key-headers`, else `X-Forwarded-For`: the right-most entry
 * that is not a trusted proxy), until its response ends; one over the cap is a 429. Direct connections and
 * proxied requests of one address share its count.
 */
export function limitConnectionsPerClient(app: FastifyInstance, max: number, site: RequestOrigin, keyHeaders: readonly string[]): void {
  const open = new OpenCounts(max);
  app.server.on('connection', (socket) => {
    const address = plainAddress(socket.remoteAddress ?? '');
    if (site.isTrustedProxy(address)) return;
    if (!open.tryOpen(address)) {
      socket.destroy();
      return;
    }
    socket.once('close', () => open.close(address));
  });
  if (!site.trustsProxies) return;
  const headers = keyHeaders.length > 0 ? keyHeaders : FORWARDED_FOR;
  const message = `too many open connections from this client: at most ${max} at a time`;
  // A callback hook: no promise per request on the read path.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (!site.fromTrustedProxy(request)) {
      done();
      return;
    }
    const client = rateLimitKey(request, headers, site);
    if (!open.tryOpen(client)) {
      void reply.code(429).send({ code: 8, message });
      return;
    }
    // `close` comes once the response is written or the connection is gone, event streams included.
    reply.raw.once('close', () => open.close(client));
    done();
  });
}
