import type { FastifyInstance } from 'fastify';

/** One route as Fastify registered it: a method and a path pattern such as `/api/v1/sync/:namespace/:key`. */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
}

/**
 * Every route of `app` (HEAD, which Fastify adds to each GET, left out), read from Fastify's own route tree
 * so that a route added later is listed without anyone remembering to.
 */
export function registeredRoutes(app: FastifyInstance): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  const parents: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const url = `${parents[depth - 1] ?? ''}${match[2]}`;
    parents[depth] = url;
    parents.length = depth + 1;
    for (const method of (match[3] ?? '').split(',').map((item) => item.trim())) {
      if (method !== '' && method !== 'HEAD') routes.push({ method, url });
    }
  }
  return routes;
}
