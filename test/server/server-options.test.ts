import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { parseDuration, resolveServerOptions } from '../../runtime/server/server-options.js';

describe('resolveServerOptions', () => {
  it('applies the defaults of SPEC §7 and §8', () => {
    expect(resolveServerOptions()).toEqual({
      port: 2746,
      address: '0.0.0.0',
      secure: true,
      hsts: true,
      tlsCert: undefined,
      tlsKey: undefined,
      home: resolve('.argosync'),
      authModes: ['client'],
      baseHref: '/',
      apiRateLimit: 1000,
      apiRateLimitWindowMs: 60_000,
      rateLimitKeyHeaders: [],
      trustedProxies: [],
      allowedHosts: [],
      maxConnectionsPerIp: 256,
      bodyLimit: 1024 * 1024,
      logFormat: 'text',
      logLevel: 'info',
    });
    expect(Object.isFrozen(resolveServerOptions())).toBe(true);
  });

  it('parses flag strings', () => {
    const options = resolveServerOptions({
      port: '8443',
      secure: 'false',
      authModes: ['hybrid'],
      baseHref: '/argo',
      apiRateLimit: '50',
      apiRateLimitWindow: '1s',
      rateLimitKeyHeaders: [' X-Forwarded-For ', ''],
      logFormat: 'json',
      logLevel: 'warn',
    });
    expect(options).toMatchObject({
      port: 8443,
      secure: false,
      authModes: ['client', 'server'],
      baseHref: '/argo/',
      apiRateLimit: 50,
      apiRateLimitWindowMs: 1000,
      rateLimitKeyHeaders: ['x-forwarded-for'],
      logFormat: 'json',
      logLevel: 'warn',
    });
  });

  it.each([
    [{ port: 'abc' }, '--port must be an integer between 0 and 65535, got "abc"'],
    [{ port: 70000 }, '--port must be an integer between 0 and 65535, got "70000"'],
    [{ secure: 'yes' }, '--secure must be "true" or "false", got "yes"'],
    [{ tlsCert: 'a.crt' }, '--tls-cert and --tls-key must be given together'],
    [{ tlsCert: 'a.crt', tlsKey: 'a.key', secure: false }, '--tls-cert/--tls-key cannot be used with --secure=false'],
    [{ authModes: ['oidc'] }, '--auth-mode must be "client", "server" or "sso" (repeatable), got "oidc"'],
    [{ apiRateLimit: 0 }, '--api-rate-limit must be an integer between 1 and'],
    [{ apiRateLimitWindow: '1 minute' }, '--api-rate-limit-window must be a positive duration such as 500ms, 1s, 1m or 1h30m, got "1 minute"'],
    [{ apiRateLimitWindow: '2562047h' }, '--api-rate-limit-window must be at most 24h, got "2562047h"'],
    [{ logFormat: 'xml' }, '--log-format must be "text" or "json", got "xml"'],
    [{ logLevel: 'loud' }, '--loglevel must be one of debug, info, warn, error, got "loud"'],
  ])('rejects %j with a message naming the flag and value', (input, message) => {
    expect(() => resolveServerOptions(input)).toThrow(InvalidArgumentError);
    expect(() => resolveServerOptions(input)).toThrow(message);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['1s', 1000],
    ['1m', 60_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
  ])('parses %s', (text, ms) => {
    expect(parseDuration('--api-rate-limit-window', text)).toBe(ms);
  });

  it.each(['0', '0s', '', '10', '-1s'])('rejects %j', (text) => {
    expect(() => parseDuration('--api-rate-limit-window', text)).toThrow(`got "${text}"`);
  });
});
