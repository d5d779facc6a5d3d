import { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { SynchronizationConfig } from '../config/runtime-config.js';
import type { ConfigMapStore } from '../store/configmap-store.js';
import type { SqlDatabase } from '../store/sql-database.js';
import { DatabaseSync } from './sync/database-sync.js';
import { LockMetrics } from './sync/lock-metrics.js';
import { SyncManager, type LostHold } from './sync/sync-manager.js';

export interface SyncEngineOptions {
  readonly config: SynchronizationConfig;
  /** The sync database: the configured one, or the state store when none is configured (SPEC §4). */
  readonly syncDatabase: SqlDatabase;
  readonly configMaps: ConfigMapStore;
  readonly onWake: (workflowKey: string) => void;
  readonly onHoldLost?: (lost: LostHold) => void;
  readonly onLockChange?: (lockName: string) => void;
  readonly onError?: (task: string, error: unknown) => void;
  readonly onWarning?: (line: string) => void;
  readonly metricsRegistry?: Registry;
  readonly clock?: Clock;
}

/** A controller's synchronization: the database session, the sync manager and its metrics, started together. */
export interface SyncEngine {
  readonly manager: SyncManager;
  readonly database: DatabaseSync;
  readonly metricsRegistry: Registry;
  stop(): Promise<void>;
}

export async function startSyncEngine(options: SyncEngineOptions): Promise<SyncEngine> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const database = new DatabaseSync({
    database: options.syncDatabase,
    tables: config,
    controllerName: config.controllerName,
    clock,
    pollSeconds: config.pollSeconds,
    heartbeatSeconds: config.heartbeatSeconds,
    inactiveControllerSeconds: config.inactiveControllerSeconds,
    reclaimInactiveHolds: config.reclaimInactiveHolds,
    skipMigration: config.skipMigration,
    ...(options.onError ? { onError: options.onError } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
  await database.start();
  const metricsRegistry = options.metricsRegistry ?? new Registry();
  // Scrapes read the manager's snapshots, so the metrics refer to it before it exists.
  const metrics: LockMetrics = new LockMetrics(metricsRegistry, () => manager.snapshots(), config.controllerName);
  const manager: SyncManager = new SyncManager({
    controllerName: config.controllerName,
    configMaps: options.configMaps,
    database,
    clock,
    semaphoreLimitCacheSeconds: config.semaphoreLimitCacheSeconds,
    missingLimit: config.missingLimit,
    onWake: options.onWake,
    ...(options.onHoldLost ? { onHoldLost: options.onHoldLost } : {}),
    ...(options.onLockChange ? { onLockChange: options.onLockChange } : {}),
    metrics,
  });
  await manager.start();
  return {
    manager,
    database,
    metricsRegistry,
    async stop() {
      manager.stop();
      metrics.unregister();
      await database.stop();
    },
  };
}
