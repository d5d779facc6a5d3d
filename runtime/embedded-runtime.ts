import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import { systemClock } from './clock.js';
import { startSyncEngine, type SyncEngine } from './controller/sync-engine.js';
import { databaseLockKey } from './controller/sync/lock-name.js';
import { openRuntime, type RuntimeContext, type RuntimeFlags } from './runtime-context.js';
import { startServer } from './server/app.js';
import { policyFilePath, PolicyFileAuthorizer } from './server/auth/policy-file-authorizer.js';
import { syncLimitRoutes } from './server/routes/sync-limits.js';
import { uiRoutes } from './server/routes/ui.js';
import { resolveServerOptions, type ServerOptionsInput } from './server/server-options.js';
import { ConfigMapLimits } from './server/sync-limits/configmap-limits.js';
import { DatabaseLimits } from './server/sync-limits/database-limits.js';
import { SyncAudit } from './server/sync-limits/sync-audit.js';
import { SyncEvents } from './server/sync-limits/sync-events.js';
import { SqlConfigMapStore } from './store/sql-configmap-store.js';

/** `argosync up` running: where to reach it and how to stop it. */
export interface EmbeddedRuntime {
  readonly url: string;
  /** The admin token, in clear only here. */
  readonly token: string;
  readonly context: RuntimeContext;
  readonly engine: SyncEngine;
  /** Hears every workflow the sync engine wakes (the workflow controller's queue, once it exists). */
  onWake(listener: (workflowKey: string) => void): () => void;
  stop(): Promise<void>;
}

/**
 * The embedded runtime in one process (SPEC §8 `argosync up`): the state store (PGlite by default), the
 * controller's synchronization engine, and the API server with the sync limits API, on loopback by default.
 */
export async function startEmbeddedRuntime(flags: RuntimeFlags, server: ServerOptionsInput, say: (line: string) => void): Promise<EmbeddedRuntime> {
  const context = await openRuntime(flags, say);
  const { synchronization } = context.config;
  const configMaps = new SqlConfigMapStore(context.stateStore);
  const wakeListeners = new Set<(workflowKey: string) => void>();
  const events = new SyncEvents();
  const engine = await startSyncEngine({
    config: synchronization,
    syncDatabase: context.syncDatabase,
    configMaps,
    onWake: (workflowKey) => wakeListeners.forEach((listener) => listener(workflowKey)),
    onLockChange: (lockName) => events.publish({ namespace: lockName.slice(0, lockName.indexOf('/')), lock: lockName, reason: 'holders' }),
    onError: (task, error) => say(`sync ${task} failed, retrying: ${(error as Error).message}`),
  });
  say(`controller ${synchronization.controllerName} started (sync schema ready, heartbeat every ${synchronization.heartbeatSeconds}s)`);
  const authorizer = await PolicyFileAuthorizer.load(policyFilePath(context.home));
  const token = await authorizer.createAdminToken();
  const databaseLimits = synchronization.enableAPI
    ? new DatabaseLimits(context.syncDatabase, synchronization.limitTableName, (namespace, key) => {
        void engine.database.limitChanged(databaseLockKey({ kind: 'Database', namespace, name: key, mutex: false })).catch(() => undefined);
      })
    : undefined;
  const syncLimits: FastifyPluginAsync = async (api) => {
    await api.register(syncLimitRoutes, {
      configMapLimits: new ConfigMapLimits(configMaps),
      ...(databaseLimits ? { databaseLimits } : {}),
      audit: new SyncAudit(context.stateStore, systemClock),
      events,
      snapshot: (identity) => engine.manager.snapshot(identity),
    });
  };
  const serverOptions = resolveServerOptions({ address: '127.0.0.1', authModes: ['client'], ...server, home: context.home });
  const ui: FastifyPluginAsync = async (root) => {
    await root.register(uiRoutes, { baseHref: serverOptions.baseHref });
  };
  const running = await startServer(
    serverOptions,
    {
      authorizer,
      metricsRegistry: engine.metricsRegistry,
      apiRoutes: [syncLimits],
      rootRoutes: [ui],
      readinessChecks: [
        {
          name: 'syncDatabase',
          check: async () => {
            await sql`select 1`.execute(context.syncDatabase.db);
            return { ready: true };
          },
        },
      ],
    },
    say,
  );
  return {
    url: running.url,
    token,
    context,
    engine,
    onWake(listener) {
      wakeListeners.add(listener);
      return () => wakeListeners.delete(listener);
    },
    async stop() {
      await running.close();
      await engine.stop();
      await configMaps.close();
      await context.close();
    },
  };
}
