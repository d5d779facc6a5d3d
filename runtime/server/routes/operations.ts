import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { Clock } from '../../clock.js';
import type { VersionInfo } from '../version-info.js';

/** The state of one dependency (database, configuration, …) as `/readyz` reports it. */
export interface ReadinessStatus {
  readonly ready: boolean;
  /** Why not ready, or a note such as a rejected configuration that is kept out of service. */
  readonly message?: string;
}

/** A named check `/readyz` runs; throwing counts as not ready with the error's message. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<ReadinessStatus>;
}

export interface OperationRoutesOptions {
  readonly registry: Registry;
  readonly readinessChecks: readonly ReadinessCheck[];
  readonly clock: Clock;
  /** A check that has not answered by then counts as not ready, so a hung database cannot hang the probe. */
  readonly readinessTimeoutMs: number;
}

/** `/healthz`, `/readyz` and `/metrics`: outside `/api/v1`, so probes and scrapers need no token. */
export const operationRoutes: FastifyPluginAsync<OperationRoutesOptions> = async (app, options) => {
  app.get('/healthz', async (_request, reply) => reply.type('text/plain').send('ok'));

  app.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(
      options.readinessChecks.map(async (check) => [check.name, await runCheck(check, options)] as const),
    );
    const ready = results.every(([, status]) => status.ready);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks: Object.fromEntries(results) });
  });

  app.get('/metrics', async (_request, reply) =>
    reply.type(options.registry.contentType).send(await options.registry.metrics()),
  );
};

async function runCheck(check: ReadinessCheck, options: OperationRoutesOptions): Promise<ReadinessStatus> {
  let cancel = () => {};
  const timeout = new Promise<ReadinessStatus>((resolve) => {
    cancel = options.clock.schedule(options.readinessTimeoutMs, () =>
      resolve({ ready: false, message: `no answer within ${options.readinessTimeoutMs} ms` }),
    );
  });
  try {
    return await Promise.race([check.check(), timeout]);
  } catch (error) {
    return { ready: false, message: (error as Error).message };
  } finally {
    cancel();
  }
}

/** `GET /api/v1/version`, registered inside the authenticated `/api/v1` context like Argo's info service. */
export const versionRoute: FastifyPluginAsync<{ readonly versionInfo: VersionInfo }> = async (app, options) => {
  app.get('/version', async () => options.versionInfo);
};
