import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseGoDuration } from '../config/duration.js';
import type { ServerConfig } from '../config/runtime-config.js';
import { DAY_MS } from '../config/duration-schema.js';
import { InvalidArgumentError } from '../errors.js';
import { parseAuthModes } from './auth/auth-mode.js';
import type { AuthMode } from './auth/auth-mode.js';
import { normaliseBaseHref } from './base-href.js';

export type LogFormat = 'text' | 'json';

/** Everything the HTTP server is configured with (SPEC §7, §8 flags), validated and frozen. */
export interface ServerOptions {
  readonly port: number;
  readonly address: string;
  readonly secure: boolean;
  /** Whether a secure server sends Strict-Transport-Security (config `server.hsts`). */
  readonly hsts: boolean;
  /** Paths of one's own PEM certificate and key; absent means a self-signed pair kept in `home`. */
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** `$ARGOSYNC_HOME`, absolute. */
  readonly home: string;
  readonly authModes: readonly AuthMode[];
  /** Always `/` or `/<path>/`. */
  readonly baseHref: string;
  readonly apiRateLimit: number;
  readonly apiRateLimitWindowMs: number;
  /** Lower-case header names; the first non-empty one keys the rate limit instead of the client IP. */
  readonly rateLimitKeyHeaders: readonly string[];
  /** `--trusted-proxies`: peers whose forwarding headers (`X-Forwarded-*`, rate-limit key headers) are believed. */
  readonly trustedProxies: readonly string[];
  /** `--allowed-hosts`: this server's names; a loopback server answers them besides localhost, 127.0.0.1 and [::1]. */
  readonly allowedHosts: readonly string[];
  /** Open connections one client address may hold. */
  readonly maxConnectionsPerIp: number;
  readonly bodyLimit: number;
  readonly logFormat: LogFormat;
  /** Argo's `--loglevel`: the least severe level written. */
  readonly logLevel: LogLevel;
}

/** What a caller (CLI flags, tests) may give; strings are accepted where a flag would carry one. */
export interface ServerOptionsInput {
  readonly port?: number | string;
  readonly address?: string;
  readonly secure?: boolean | string;
  readonly hsts?: boolean;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly home?: string;
  readonly authModes?: readonly string[];
  readonly baseHref?: string;
  readonly apiRateLimit?: number | string;
  /** A duration such as `1m`, `1s`, `500ms`, `1m30s`, or milliseconds as a number. */
  readonly apiRateLimitWindow?: string | number;
  readonly rateLimitKeyHeaders?: readonly string[];
  readonly trustedProxies?: readonly string[];
  readonly allowedHosts?: readonly string[];
  readonly maxConnectionsPerIp?: number | string;
  readonly bodyLimit?: number | string;
  readonly logFormat?: string;
  readonly logLevel?: string;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_PORT = 2746;
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 256;

/** Applies the defaults of SPEC §7/§8 and rejects bad values with a message naming the flag and value. */
export function resolveServerOptions(input: ServerOptionsInput = {}): ServerOptions {
  const tlsCert = input.tlsCert || undefined;
  const tlsKey = input.tlsKey || undefined;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new InvalidArgumentError('--tls-cert and --tls-key must be given together');
  }
  const secure = parseBoolean('--secure', input.secure ?? true);
  if (!secure && tlsCert !== undefined) {
    throw new InvalidArgumentError('--tls-cert/--tls-key cannot be used with --secure=false');
  }
  const logFormat = input.logFormat ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') {
    throw new InvalidArgumentError(`--log-format must be "text" or "json", got "${logFormat}"`);
  }
  const logLevel = input.logLevel ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new InvalidArgumentError(`--loglevel must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const windowInput = input.apiRateLimitWindow ?? '1m';
  return Object.freeze({
    port: parseInteger('--port', input.port ?? DEFAULT_PORT, 0, 65535),
    address: input.address ?? '0.0.0.0',
    secure,
    hsts: input.hsts ?? true,
    tlsCert,
    tlsKey,
    home: resolve(input.home ?? '.argosync'),
    authModes: Object.freeze(parseAuthModes(input.authModes ?? ['client'])),
    baseHref: normaliseBaseHref(input.baseHref ?? '/'),
    apiRateLimit: parseInteger('--api-rate-limit', input.apiRateLimit ?? 1000, 1, Number.MAX_SAFE_INTEGER),
    apiRateLimitWindowMs: parseRateLimitWindow(windowInput),
    rateLimitKeyHeaders: listOf(input.rateLimitKeyHeaders, (name) => name.toLowerCase()),
    trustedProxies: listOf(input.trustedProxies, (address) => {
      if (isIP(address) === 0) throw new InvalidArgumentError(`--trusted-proxies takes IP addresses, got "${address}"`);
      return address;
    }),
    allowedHosts: listOf(input.allowedHosts, (host) => host.toLowerCase()),
    maxConnectionsPerIp: parseInteger('--max-connections-per-ip', input.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP, 1, 65535),
    bodyLimit: parseInteger('--body-limit', input.bodyLimit ?? DEFAULT_BODY_LIMIT, 1, Number.MAX_SAFE_INTEGER),
    logFormat,
    logLevel: logLevel as LogLevel,
  });
}

/**
 * The config file's `server` section (SPEC §3) as server options: what a flag given on the command line
 * overrides, read when the runtime starts.
 */
export function serverOptionsFromConfig(config: ServerConfig): ServerOptionsInput {
  return {
    port: config.port,
    ...(config.address === undefined ? {} : { address: config.address }),
    secure: config.secure,
    hsts: config.hsts,
    ...(config.tlsCert === undefined ? {} : { tlsCert: config.tlsCert }),
    ...(config.tlsKey === undefined ? {} : { tlsKey: config.tlsKey }),
    authModes: config.authMode,
    baseHref: config.baseHref,
    apiRateLimit: config.apiRateLimit,
    apiRateLimitWindow: config.apiRateLimitWindowMs,
    rateLimitKeyHeaders: config.rateLimitKeyHeaders,
    bodyLimit: config.maxBodyBytes,
  };
}

/** A repeatable or comma-separated flag's values, trimmed, empty ones dropped, each checked or normalised by `read`. */
function listOf(values: readonly string[] | undefined, read: (value: string) => string): readonly string[] {
  const items = (values ?? []).flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
  return Object.freeze(items.map(read));
}

/** True for addresses only this machine can reach: `localhost`, `::1` and 127.0.0.0/8. */
export function isLoopbackAddress(address: string): boolean {
  return address === 'localhost' || address === '::1' || (isIP(address) === 4 && address.startsWith('127.'));
}

/** Parses a Go-style duration (`500ms`, `1s`, `1m`, `1h30m`) into milliseconds; it must be at least 1 ms. */
export function parseDuration(flag: string, text: string): number {
  const ms = parseGoDuration(text.trim());
  if (ms === undefined || !(ms >= 1)) {
    throw new InvalidArgumentError(`${flag} must be a positive duration such as 500ms, 1s, 1m or 1h30m, got "${text}"`);
  }
  return Math.round(ms);
}

/** `--api-rate-limit-window`, bounded as the configuration file bounds it (1 ms to 24 h; SPEC §7.6). */
function parseRateLimitWindow(value: string | number): number {
  const flag = '--api-rate-limit-window';
  const ms = typeof value === 'number' ? parseInteger(flag, value, 1, DAY_MS) : parseDuration(flag, value);
  if (ms > DAY_MS) throw new InvalidArgumentError(`${flag} must be at most 24h, got "${value}"`);
  return ms;
}

function parseInteger(flag: string, value: number | string, min: number, max: number): number {
  const parsed = typeof value === 'number' ? value : /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new InvalidArgumentError(`${flag} must be an integer between ${min} and ${max}, got "${value}"`);
  }
  return parsed;
}

function parseBoolean(flag: string, value: boolean | string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError(`${flag} must be "true" or "false", got "${value}"`);
}
