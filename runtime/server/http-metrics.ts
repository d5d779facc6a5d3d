import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
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
  // prom-client hashes a labels object on every call; the children for each label set are looked up once. There
  // are few label sets: methods, route templates and status codes are each a small fixed set.
  const children = new Map<string, { readonly requests: Counter.Internal; readonly duration: Histogram.Internal<(typeof labelNames)[number]> }>();
  // A callback hook: no promise per request.
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    const id = `${request.method} ${route} ${reply.statusCode}`;
    let child = children.get(id);
    if (child === undefined) {
      const labels = { method: request.method, route, status: String(reply.statusCode) };
      child = { requests: requests.labels(labels), duration: duration.labels(labels) };
      children.set(id, child);
    }
    child.requests.inc();
    child.duration.observe(reply.elapsedTime / 1000);
    done();
  });
}
