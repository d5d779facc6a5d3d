import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram } from 'prom-client';
import type { Metric, Registry } from 'prom-client';

/** The metric already registered under `name`: building a second app on one registry reuses it. */
export function existingMetric<T extends Metric>(registry: Registry, name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

/** Requests not matched by any route share one label value, so scanners cannot blow up cardinality. */
const UNMATCHED_ROUTE = 'unmatched';

/**
 * Counts every response and its duration by method, route template (`/api/v1/sync/:namespace/:key`,
 * never the raw URL) and status code.
 */
export function registerHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests =
    existingMetric<Counter<(typeof labelNames)[number]>>(registry, 'argosync_http_requests_total') ??
    new Counter({ name: 'argosync_http_requests_total', help: 'HTTP requests answered', labelNames, registers: [registry] });
  const duration =
    existingMetric<Histogram<(typeof labelNames)[number]>>(registry, 'argosync_http_request_duration_seconds') ??
    new Histogram({
      name: 'argosync_http_request_duration_seconds',
      help: 'Time from receiving an HTTP request to sending the response',
      labelNames,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const labels = {
      method: request.method,
      route: request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE),
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });
}
