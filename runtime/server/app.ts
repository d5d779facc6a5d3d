import type { AddressInfo } from 'node:net';
import { fastify, LogController } from 'fastify';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import { registerAuthentication } from './auth/authenticate.js';
import { limitConnectionsPerClient } from './connection-limit.js';
import { registerHostCheck } from './host-check.js';
import { registerOriginCheck } from './origin-check.js';
import { RequestOrigin } from './request-origin.js';
import type { Authorizer } from './auth/authorizer.js';
import { oauth2DisabledRoutes } from './auth/sso/oauth2-disabled-routes.js';
import type { SsoService } from './auth/sso/sso-service.js';
import { userInfoRoute } from './auth/sso/userinfo-route.js';
import { stripBaseHref } from './base-href.js';
import { registerErrorHandling, writeClientError, writeFrameworkError } from './error-handler.js';
import { registerJsonBodyParser } from './json-body.js';
import { registerHttpMetrics } from './http-metrics.js';
import { createLogger } from './logger.js';
import { redactUrl } from '../redact.js';
import { registerRateLimit } from './rate-limit.js';
import { operationRoutes, versionRoute } from './routes/operations.js';
import type { ReadinessCheck } from './routes/operations.js';
import { isLoopbackAddress, type ServerOptions } from './server-options.js';
import { HSTS_VALUE, loadTlsMaterial, TLS_SETTINGS } from './tls.js';
import { readVersionInfo } from './version-info.js';
import { createValidatorCompiler } from './validator.js';

/** What the server is built from besides its options; routes plug in here. */
export interface ServerServices {
  readonly authorizer: Authorizer;
  readonly metricsRegistry: Registry;
  readonly readinessChecks?: readonly ReadinessCheck[];
  /** Route plugins mounted under `/api/v1`, behind authentication (sync limits, workflows, config…). */
  readonly apiRoutes?: readonly FastifyPluginAsync[];
  /** Route plugins mounted at the root without authentication (the UI). */
  readonly rootRoutes?: readonly FastifyPluginAsync[];
  readonly clock?: Clock;
  /** Defaults to a logger in `options.logFormat` on stderr. */
  readonly logger?: Logger;
  /** Present when `--auth-mode sso` is on: sessions for the auth hook and the `/oauth2/*` routes. */
  readonly sso?: SsoService;
}

const INSECURE_WARNING =
  'You are running in insecure mode. Learn how to enable transport layer security: drop --secure=false to use a generated certificate, or pass --tls-cert and --tls-key';
const KEY_HEADERS_WITHOUT_PROXIES_WARNING =
  '--rate-limit-key-headers without --trusted-proxies believes the header from every connection: a client that reaches this port without the proxy can name a new address in every request. List the proxy in front with --trusted-proxies';
const SERVER_ONLY_WARNING =
  'You are running without client authentication: every request acts as the server. Add --auth-mode client to require tokens';

/** Bounds each readiness check, so a hung database cannot hold `/readyz` requests open indefinitely. */
const READINESS_TIMEOUT_MS = 5000;
/**
 * SPEC §7.6: a whole request (headers and body) must arrive within 60 s and its headers within 10 s; an idle
 * keep-alive connection is closed after 5 s. Responses, event streams included, are not bounded by these.
 */
const TIMEOUTS = { requestTimeout: 60_000, keepAliveTimeout: 5_000 } as const;
// Node answers a request without `Host` with a bodyless 400 of its own; the Host check answers it instead.
const NODE_OPTIONS = { headersTimeout: 10_000, connectionsCheckingInterval: 2_000, requireHostHeader: false } as const;
/** Path parameters up to this length reach the routes (and their 400s); Fastify's default of 100 would 404 a long key. */
const MAX_PARAM_LENGTH = 1024;

/** Builds the Fastify app with every cross-cutting concern of SPEC §7.1 in place; it does not listen. */
export async function buildApp(options: ServerOptions, services: ServerServices): Promise<FastifyInstance> {
  const clock = services.clock ?? systemClock;
  const logger = services.logger ?? createLogger({ format: options.logFormat, level: options.logLevel });
  const common = {
    loggerInstance: logger,
    // One line per request, written when it completes (Fastify's default writes two).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: writeFrameworkError,
    ...TIMEOUTS,
    rewriteUrl: (request: { url?: string }) => stripBaseHref(request.url ?? '/', options.baseHref),
    clientErrorHandler: writeClientError,
  };
  const app = (
    options.secure
      ? fastify({ ...common, https: { ...(await loadTlsMaterial(options, clock)), ...TLS_SETTINGS, ...NODE_OPTIONS } })
      : fastify({ ...common, http: NODE_OPTIONS })
  ) as unknown as FastifyInstance;
  if (!options.secure) app.log.warn(INSECURE_WARNING);
  if (options.authModes.length === 1 && options.authModes[0] === 'server') app.log.warn(SERVER_ONLY_WARNING);
  if (options.rateLimitKeyHeaders.length > 0 && options.trustedProxies.length === 0) app.log.warn(KEY_HEADERS_WITHOUT_PROXIES_WARNING);

  const site = new RequestOrigin({ ...options, allowedHosts: [...options.allowedHosts, ...(services.sso?.ownHosts ?? [])] });
  // Callback hooks here and below: no promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info({ method: request.method, url: redactUrl(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed');
    done();
  });
  app.setValidatorCompiler(createValidatorCompiler());
  // Only JSON is accepted; a text/plain body is a 400 rather than a string handed to a JSON route.
  app.removeContentTypeParser('text/plain');
  registerJsonBodyParser(app);
  registerErrorHandling(app, options.bodyLimit);
  registerRateLimit(app, {
    limit: options.apiRateLimit,
    windowMs: options.apiRateLimitWindowMs,
    keyHeaders: options.rateLimitKeyHeaders,
    site,
    exempt: ['/healthz', '/readyz', '/metrics'],
    clock,
    registry: services.metricsRegistry,
  });
  // The onRequest hooks after the rate limit's, so that every refusal carries the rate-limit headers too.
  limitConnectionsPerClient(app, options.maxConnectionsPerIp, site, options.rateLimitKeyHeaders);
  registerHostCheck(app, site, isLoopbackAddress(options.address));
  registerOriginCheck(app, site);
  registerHttpMetrics(app, services.metricsRegistry);
  if (options.secure && options.hsts) {
    app.addHook('onSend', (_request, reply, payload, done) => {
      reply.header('strict-transport-security', HSTS_VALUE);
      done(null, payload);
    });
  }

  await app.register(operationRoutes, {
    registry: services.metricsRegistry,
    readinessChecks: services.readinessChecks ?? [],
    clock,
    readinessTimeoutMs: READINESS_TIMEOUT_MS,
  });
  const versionInfo = await readVersionInfo();
  await app.register(
    async (api) => {
      registerAuthentication(api, services.authorizer, options.authModes, services.sso?.sessions);
      await api.register(versionRoute, { versionInfo });
      await api.register(userInfoRoute);
      for (const routes of services.apiRoutes ?? []) await api.register(routes);
    },
    { prefix: '/api/v1' },
  );
  await app.register(services.sso?.routes ?? oauth2DisabledRoutes);
  for (const routes of services.rootRoutes ?? []) await app.register(routes);
  return app;
}

/** A listening server and how to reach it. */
export interface RunningServer {
  readonly app: FastifyInstance;
  /** e.g. `https://localhost:2746/argo/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Builds the app, listens, and prints exactly one line `argosync listening on <url>` once ready. */
export async function startServer(
  options: ServerOptions,
  services: ServerServices,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<RunningServer> {
  const app = await buildApp(options, services);
  try {
    await app.listen({ port: options.port, host: options.address });
  } catch (error) {
    await app.close();
    throw error;
  }
  const url = listeningUrl(options, (app.server.address() as AddressInfo).port);
  print(`argosync listening on ${url}`);
  return { app, url, close: () => app.close() };
}

function listeningUrl(options: ServerOptions, port: number): string {
  const anyAddress = options.address === '0.0.0.0' || options.address === '::' || options.address === '';
  const host = anyAddress ? 'localhost' : options.address.includes(':') ? `[${options.address}]` : options.address;
  return `${options.secure ? 'https' : 'http'}://${host}:${port}${options.baseHref}`;
}
