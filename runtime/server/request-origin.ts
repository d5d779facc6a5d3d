import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { hostnameOf } from './host-check.js';
import { isLoopbackAddress, type ServerOptions } from './server-options.js';

/** What decides whose forwarding headers are believed and which names are this server's own. */
export type SiteOptions = Pick<ServerOptions, 'secure' | 'trustedProxies' | 'allowedHosts' | 'address'>;

/** The scheme and `host[:port]` a browser used to reach this server. */
export interface SeenOrigin {
  readonly scheme: 'http' | 'https';
  readonly host: string;
}

/** A `Host` value and nothing else: a name or an IP literal and an optional port (no user info, path or spaces). */
const HOST_SYNTAX = /^(?:\[([0-9a-f:.]+)\]|[a-z0-9](?:[a-z0-9.-]{0,252}))(?::([1-9]\d{0,4}))?$/i;

/** Whether `host` is one a URL can be built on: {@link HOST_SYNTAX}, a real IPv6 literal, a port from 1 to 65535. */
function isPlainHost(host: string): boolean {
  const match = HOST_SYNTAX.exec(host);
  if (match === null) return false;
  const [, ipv6, port] = match;
  return (ipv6 === undefined || isIP(ipv6) === 6) && (port === undefined || Number(port) <= 65535);
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** `::ffff:10.0.0.1`, how a dual-stack socket shows an IPv4 peer, is `10.0.0.1`. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * `--trusted-proxies` and `--allowed-hosts` applied to one request (SPEC §7.6). Forwarding headers
 * (`X-Forwarded-For`, `X-Real-IP`, `X-Forwarded-Proto`, `X-Forwarded-Host`) are believed only when the
 * connection itself comes from a trusted proxy: from anyone else they are whatever the client chose to write.
 */
export class RequestOrigin {
  readonly #proxies: ReadonlySet<string>;
  readonly #ownHosts: ReadonlySet<string>;
  readonly #scheme: 'http' | 'https';

  constructor(options: SiteOptions) {
    this.#proxies = new Set(options.trustedProxies.map(plainAddress));
    const bound = options.address === '' || options.address === '0.0.0.0' || options.address === '::' ? [] : [isIP(options.address) === 6 ? `[${options.address}]` : options.address];
    const loopback = bound.length === 0 || isLoopbackAddress(options.address) ? LOOPBACK_NAMES : [];
    this.#ownHosts = new Set([...loopback, ...bound, ...options.allowedHosts].map(hostnameOf));
    this.#scheme = options.secure ? 'https' : 'http';
  }

  /** Whether any proxy is listed. */
  get trustsProxies(): boolean {
    return this.#proxies.size > 0;
  }

  /** Whether `address` (a socket's, or an entry of `X-Forwarded-For`) is a trusted proxy. */
  isTrustedProxy(address: string): boolean {
    return this.#proxies.size > 0 && this.#proxies.has(plainAddress(address));
  }

  /** Whether the request arrived straight from a trusted proxy, so its forwarding headers are the proxy's. */
  fromTrustedProxy(request: FastifyRequest): boolean {
    return this.#proxies.size > 0 && this.#proxies.has(plainAddress(request.socket.remoteAddress ?? ''));
  }

  /**
   * How the browser reached this server: from a trusted proxy, `X-Forwarded-Proto` and `X-Forwarded-Host`
   * (first entry) when present; otherwise this server's own scheme and the `Host` header. Undefined when the
   * host is not plain `host[:port]` syntax.
   */
  seenAs(request: FastifyRequest): SeenOrigin | undefined {
    let scheme = this.#scheme;
    let host = request.headers.host;
    if (this.fromTrustedProxy(request)) {
      const proto = firstEntry(request.headers['x-forwarded-proto'])?.toLowerCase();
      if (proto === 'http' || proto === 'https') scheme = proto;
      host = firstEntry(request.headers['x-forwarded-host']) ?? host;
    }
    return host !== undefined && isPlainHost(host) ? { scheme, host } : undefined;
  }

  /**
   * Whether `host` names this server: an `--allowed-hosts` entry, the address it is bound to, or a loopback
   * name when it is bound to loopback or to every interface.
   */
  isOwnHost(host: string): boolean {
    return this.#ownHosts.has(hostnameOf(host));
  }
}

function firstEntry(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  const first = text?.split(',')[0]?.trim();
  return first === '' ? undefined : first;
}
