import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import { FixedWindowCounter } from './fixed-window-counter.js';
import { plainAddress, type RequestOrigin } from './request-origin.js';

export interface RateLimitOptions {
  readonly limit: number;
  readonly windowMs: number;
  /** Lower-case header names tried in order before the client IP (`--rate-limit-key-headers`). */
  readonly keyHeaders: readonly string[];
  /** `--trusted-proxies`: only their key headers are believed, and their own entries in them are skipped. */
  readonly site: RequestOrigin;
  /** Route paths that carry the headers but are not counted (probes and metrics, SPEC §7.6). */
  readonly exempt: readonly string[];
  readonly clock: Clock;
  readonly registry: Registry;
}

const RATE_LIMIT_HEADERS = [
  ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
  // Argo's documentation names these; its server sends the ones above. argosync sends both.
  ['x-rate-limit-limit', 'x-rate-limit-remaining', 'x-rate-limit-reset'],
] as const;

/**
 * Adds the rate limit to the root context, so every response (API, probes, metrics, UI assets, 404s and
 * errors) carries the headers. Runs as the first `onRequest` hook: a refused request is never
 * authenticated or parsed.
 */
export function registerRateLimit(app: FastifyInstance, options: RateLimitOptions): void {
  const counter = new FixedWindowCounter({ limit: options.limit, windowMs: options.windowMs, clock: options.clock });
  options.registry.removeSingleMetric('argosync_http_rate_limit_keys'); // a rebuilt app reports its own counter
  new Gauge({
    name: 'argosync_http_rate_limit_keys',
    help: 'Clients (rate-limit keys) with an open rate-limit window',
    registers: [options.registry],
    collect() {
      this.set(counter.size);
    },
  });
  const exempt = new Set(options.exempt);
  const resetText = lastValueCache(httpDateUtc);
  // A callback hook: no promise per request on the read path.
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const key = rateLimitKey(request, options.keyHeaders, options.site);
    const counted = !exempt.has(request.routeOptions.url ?? '');
    const take = counted ? counter.take(key) : counter.peek(key);
    const reset = resetText(take.resetAt);
    for (const [limit, remaining, resetName] of RATE_LIMIT_HEADERS) {
      reply.header(limit, take.limit).header(remaining, take.remaining).header(resetName, reset);
    }
    if (counted && !take.allowed) {
      void reply.code(429).header('retry-after', reset).send({ code: 8, message: 'Too Many Requests' });
      return;
    }
    done();
  });
}

/** `format` remembering its last argument and result: a client's requests share one window's reset time. */
function lastValueCache(format: (value: number) => string): (value: number) => string {
  let last: { value: number; text: string } | undefined;
  return (value) => {
    if (last?.value !== value) last = { value, text: format(value) };
    return last.text;
  };
}

/**
 * The client IP, unless the connection comes from a trusted proxy: then the first non-empty configured header.
 * A header sent straight by a client is ignored, or it could name a new address with every request. Each proxy
 * appends the address it received from to `X-Forwarded-For`, so only the right end is trustworthy: the key is
 * the right-most entry that is not a trusted proxy (the entry the nearest untrusted hop wrote; the client
 * chooses everything left of it). An IPv4 client has one key whether a dual-stack socket or proxy wrote it
 * `::ffff:a.b.c.d` or `a.b.c.d`, so switching between the two forms opens no second window.
 */
export function rateLimitKey(request: FastifyRequest, keyHeaders: readonly string[], site: RequestOrigin): string {
  return plainAddress(believedClient(request, keyHeaders, site));
}

function believedClient(request: FastifyRequest, keyHeaders: readonly string[], site: RequestOrigin): string {
  // SPEC §7.6: with no proxy listed, the operator vouches that every connection comes through one (the key is the
  // entry it appended); once proxies are listed, headers from any other peer are a client's own words.
  if (keyHeaders.length === 0 || (site.trustsProxies && !site.fromTrustedProxy(request))) return request.ip;
  for (const name of keyHeaders) {
    const raw = request.headers[name];
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    if (!value) continue;
    const entries = value.split(',');
    for (let index = entries.length - 1; index >= 0; index -= 1) {
      const entry = entries[index]!.trim();
      if (entry !== '' && !site.isTrustedProxy(entry)) return entry;
    }
  }
  return request.ip;
}

/**
 * RFC 1123 date in UTC, spelled as Argo's Go server prints it (`Mon, 02 Jan 2006 15:04:05 UTC`), rounded
 * up to the next whole second so that a client waiting until that time always finds a new window.
 */
export function httpDateUtc(epochMs: number): string {
  return new Date(Math.ceil(epochMs / 1000) * 1000).toUTCString().replace(/GMT$/, 'UTC');
}
