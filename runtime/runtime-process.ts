import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { systemClock } from './clock.js';
import { ConfigSections, type SectionName, type SectionTarget } from './config/config-sections.js';
import { inlineSecretResolver } from './config/inline-secret-resolver.js';
import type { RuntimeConfig, SynchronizationConfig } from './config/runtime-config.js';
import { startSyncEngine, type SyncEngine } from './controller/sync-engine.js';
import type { SyncTables } from './controller/sync/sync-tables.js';
import { homeOf, openRuntime, type RuntimeContext, type RuntimeFlags } from './runtime-context.js';
import { startServer, type RunningServer } from './server/app.js';
import { policyFilePath, PolicyFileAuthorizer } from './server/auth/policy-file-authorizer.js';
import { configRoutes } from './server/routes/config.js';
import { syncLimitRoutes } from './server/routes/sync-limits.js';
import { uiRoutes } from './server/routes/ui.js';
import { isLoopbackAddress, resolveServerOptions, type ServerOptionsInput } from './server/server-options.js';
import { ConfigMapLimits } from './server/sync-limits/configmap-limits.js';
import { DatabaseLimits } from './server/sync-limits/database-limits.js';
import { SyncAudit } from './server/sync-limits/sync-audit.js';
import { SyncEvents } from './server/sync-limits/sync-events.js';
import { readSchemaVersion } from './store/migrations/migration-runner.js';
import { SYNC_SCHEMA_VERSION_TABLE } from './store/migrations/sync-migrations.js';
import type { ConfigMapStore } from './store/configmap-store.js';
import { KubernetesConfigMapStore } from './store/kubernetes-configmap-store.js';
import { SqlConfigMapStore } from './store/sql-configmap-store.js';
import { KubernetesAuthorizer } from './server/auth/kubernetes-authorizer.js';
import { announceLimitChange, DatabaseSync } from './controller/sync/database-sync.js';
import { DatabaseLimitSource } from './controller/sync/database-limit-source.js';
import { DatabaseLock } from './controller/sync/database-lock.js';
import type { LockSnapshot } from './controller/sync/lock.js';
import { databaseLockKey, encodeLockName, type LockIdentity } from './controller/sync/lock-name.js';
import { NotFoundError } from './errors.js';
import type { SqlDatabase } from './store/sql-database.js';
import type { Kysely } from 'kysely';
import { chooseExecutor } from './controller/workflows/executors/choose-executor.js';
import type { Archiving, NodeStatusCodec, WorkflowController } from './controller/workflows/workflow-controller.js';
import { ControllerReplica } from './controller/controller-replica.js';
import { Hydrator } from './controller/offload/hydrator.js';
import { SqlOffloadRepository } from './controller/offload/offload-repository.js';
import { SqlWorkflowArchive, unsupportedArchive } from './controller/archive/sql-workflow-archive.js';
import type { WorkflowArchive } from './controller/archive/workflow-archive.js';
import { readEnvironmentKnobs } from './config/environment-knobs.js';
import { labelSelectorMatcher } from './store/label-selector.js';
import { migratePersistenceSchema, PERSISTENCE_VERSION_TABLE } from './store/migrations/persistence-migrations.js';
import { SqlWorkflowStore } from './store/sql-workflow-store.js';
import { workflowRoutes } from './server/routes/workflows.js';
import { archivedWorkflowRoutes } from './server/routes/archived-workflows.js';

/**
 * What one process runs (SPEC §8): `all` is `argosync up` (controller, API server, UI); `server` is the API
 * server and UI without a controller; `controller` is the synchronization engine with only the operations
 * endpoints (`/healthz`, `/readyz`, `/metrics`).
 */
export type RuntimeRole = 'all' | 'server' | 'controller';

/** A running runtime: where to reach it and how to stop it. */
export interface RunningRuntime {
  readonly url: string;
  /** The listening HTTP server and its Fastify app (its routes, for the route-protection test). */
  readonly server: RunningServer;
  /** The admin token in clear (only here), when the policy file holds tokens; undefined on Kubernetes. */
  readonly token: string | undefined;
  readonly context: RuntimeContext;
  /** The synchronization engine in use (none in the `server` role); replaced when the config API changes the sync database. */
  readonly engine: SyncEngine | undefined;
  /** Hears every workflow the sync engine wakes (besides the workflow controller). */
  onWake(listener: (workflowKey: string) => void): () => void;
  /** The workflow controller of this process (none in the `server` role). */
  readonly workflows: WorkflowController | undefined;
  stop(): Promise<void>;
}

/** The sync database in use and what runs on it. */
interface SyncInUse {
  readonly config: SynchronizationConfig;
  readonly database: SqlDatabase;
  readonly engine: SyncEngine | undefined;
  readonly limits: DatabaseLimits | undefined;
}

/** A database lock's holders and queue read straight from the sync tables, for a server without a controller. */
async function readDatabaseLock(identity: LockIdentity, sync: SyncInUse): Promise<LockSnapshot> {
  if (identity.kind !== 'Database') throw new NotFoundError('holders of ConfigMap semaphores are known to the controller only');
  const session = new DatabaseSync({
    database: sync.database,
    tables: sync.config,
    controllerName: sync.config.controllerName,
    clock: systemClock,
    pollSeconds: sync.config.pollSeconds,
    heartbeatSeconds: sync.config.heartbeatSeconds,
    inactiveControllerSeconds: sync.config.inactiveControllerSeconds,
    reclaimInactiveHolds: false,
    skipMigration: true,
  });
  const limits = new DatabaseLimitSource(session.db, session.tables, identity.namespace, identity.name);
  return new DatabaseLock(encodeLockName(identity), 'semaphore', databaseLockKey(identity), limits, session).snapshot();
}

/**
 * The runtime in one process: the state store (PGlite by default), the controller's synchronization engine,
 * and the API server with the sync limits and config APIs and the UI, as `role` selects. On Kubernetes
 * (in a Pod, or with `KUBECONFIG`) ConfigMaps are real ConfigMaps and tokens are checked by the cluster;
 * elsewhere the state store and the policy file in the home serve. The config API switches the sync
 * database live.
 */
export async function startRuntime(flags: RuntimeFlags, server: ServerOptionsInput, say: (line: string) => void, role: RuntimeRole = 'all'): Promise<RunningRuntime> {
  // A bad server flag is refused before anything is opened or started.
  const serverOptions = resolveServerOptions({
    address: role === 'all' ? '127.0.0.1' : '0.0.0.0',
    authModes: ['client'],
    ...server,
    home: homeOf(flags),
  });
  const context = await openRuntime(flags, say);
  const { kubernetes } = context;
  const embeddedConfigMaps = kubernetes ? undefined : new SqlConfigMapStore(context.stateStore);
  const configMaps: ConfigMapStore = embeddedConfigMaps ?? new KubernetesConfigMapStore(kubernetes!);
  say(kubernetes ? 'ConfigMaps and tokens: Kubernetes API' : 'ConfigMaps and tokens: state store and policy file (no Kubernetes found)');
  const wakeListeners = new Set<(workflowKey: string) => void>();
  const events = new SyncEvents();
  const metricsRegistry = new Registry();
  let persistence = context.persistenceDatabase;
  const workflowStore = new SqlWorkflowStore(context.stateStore);
  let replica: ControllerReplica | undefined;

  const startSync = async (config: SynchronizationConfig, database: SqlDatabase): Promise<SyncInUse> => {
    const engine =
      role === 'server'
        ? undefined
        : await startSyncEngine({
            config,
            syncDatabase: database,
            configMaps,
            metricsRegistry,
            onWake: (workflowKey) => wakeListeners.forEach((listener) => listener(workflowKey)),
            onHoldLost: (lost) => replica?.workflows?.holdLost(lost.workflowKey, lost.lockName),
            onLockChange: (lockName) => events.publish({ namespace: lockName.slice(0, lockName.indexOf('/')), lock: lockName, reason: 'holders' }),
            onError: (task, error) => say(`sync ${task} failed, retrying: ${(error as Error).message}`),
          });
    const limits = config.enableAPI
      ? new DatabaseLimits(database, config.limitTableName, (namespace, key) => {
          void announceLimitChange(database, databaseLockKey({ kind: 'Database', namespace, name: key, mutex: false })).catch(() => undefined);
        })
      : undefined;
    if (engine) say(`controller ${config.controllerName} started on ${database.description} (heartbeat every ${config.heartbeatSeconds}s)`);
    return { config, database, engine, limits };
  };
  let sync = await startSync(context.config.synchronization, context.syncDatabase);

  const target: SectionTarget = {
    async apply(section: SectionName, config: RuntimeConfig, database: SqlDatabase | undefined) {
      if (section === 'persistence') {
        const previous = persistence;
        persistence = database;
        persistenceConfig = config.persistence;
        if (previous && previous !== database) await previous.destroy();
        return;
      }
      // Holds in the previous database stay there; with no sync database configured, the state store serves.
      const previous = sync;
      await previous.engine?.stop();
      try {
        sync = await startSync(config.synchronization, database ?? context.stateStore);
      } catch (error) {
        if (database) await database.destroy();
        sync = await startSync(previous.config, previous.database);
        throw error;
      }
      if (previous.database !== context.stateStore && previous.database !== sync.database) await previous.database.destroy();
    },
    async describe(section: SectionName) {
      if (section === 'persistence') return persistence ? { schemaVersion: await readSchemaVersion(persistence, PERSISTENCE_VERSION_TABLE) } : {};
      const db = sync.database.db as Kysely<SyncTables>;
      const controllers = await db.selectFrom(sync.config.controllerTableName as 'sync_controller').select(['controller', 'time']).orderBy('controller').execute();
      return {
        schemaVersion: await readSchemaVersion(sync.database, SYNC_SCHEMA_VERSION_TABLE),
        database: sync.database.description,
        controllers: controllers.map((row) => ({ name: row.controller, lastHeartbeat: row.time?.toISOString() ?? null })),
      };
    },
  };

  const knobs = readEnvironmentKnobs();
  // `argosync up` serves this machine only unless told otherwise; the split roles serve the cluster.
  const namespace = process.env.ARGOSYNC_NAMESPACE ?? 'default';
  let persistenceConfig = context.config.persistence;
  if (persistence && !persistenceConfig.skipMigration && role !== 'server') {
    await migratePersistenceSchema(persistence, { tableName: persistenceConfig.tableName ?? 'argo_workflows' });
  }
  // Built per use, so that a persistence section changed through the config API applies at once.
  const offload = () =>
    persistence && persistenceConfig.nodeStatusOffLoad
      ? new SqlOffloadRepository(persistence, { tableName: persistenceConfig.tableName ?? 'argo_workflows', clusterName: persistenceConfig.clusterName })
      : undefined;
  const nodeStatus = (): NodeStatusCodec => {
    const repository = offload();
    return new Hydrator({ maxWorkflowSize: knobs.maxWorkflowSize, alwaysOffload: knobs.alwaysOffloadNodeStatus, compression: knobs.workflowCompressionAlgorithm, ...(repository ? { offload: repository } : {}) });
  };
  // Argo Server reads the archive whenever persistence is configured, even with archiving off.
  const archive = (): WorkflowArchive => (persistence ? new SqlWorkflowArchive(persistence, { clusterName: persistenceConfig.clusterName }) : unsupportedArchive);
  const archiving = (): Archiving | undefined => (persistence && persistenceConfig.archive ? { archive: archive(), matches: labelSelectorMatcher(persistenceConfig.archiveLabelSelector) } : undefined);
  if (role !== 'server') {
    const executor = await chooseExecutor({
      requested: flags.executor ?? context.config.executor.type,
      kubernetes,
      loopback: isLoopbackAddress(serverOptions.address),
      unauthenticatedCallers: serverOptions.authModes.includes('server'),
      home: context.home,
      say,
    });
    replica = new ControllerReplica({
      controller: { store: workflowStore, executor, sync: () => sync.engine?.manager, codec: nodeStatus, archiving, say },
      garbageCollection: {
        offload,
        archive: () => {
          const ttlMs = persistenceConfig.archiveTTLMs;
          return persistence && persistenceConfig.archive && ttlMs > 0 ? { archive: archive(), ttlMs } : undefined;
        },
        offloadTtlMs: knobs.offloadNodeStatusTtlMs,
        offloadPeriodMs: knobs.workflowGcPeriodMs,
        archivePeriodMs: knobs.archivedWorkflowGcPeriodMs,
      },
      knobs,
      kubernetes,
      namespace,
      stateStore: context.stateStore,
      home: context.home,
    });
    const controllerReplica = replica;
    wakeListeners.add((workflowKey) => controllerReplica.workflows?.wake(workflowKey));
    await controllerReplica.start();
  }

  const sections = new ConfigSections(context.configSource, inlineSecretResolver(), target);
  const stopWatchingConfig = await context.configSource.watch(
    (config) => void sections.reload(config, (error) => say(`configuration change not applied: ${error.message}`)),
    (error) => say(`configuration rejected, keeping the last good one: ${error.message}`),
  );
  const policy = kubernetes ? undefined : await PolicyFileAuthorizer.load(policyFilePath(context.home));
  const token = await policy?.createAdminToken();
  const api: FastifyPluginAsync = async (routes) => {
    await routes.register(syncLimitRoutes, {
      configMapLimits: new ConfigMapLimits(configMaps),
      databaseLimits: () => sync.limits,
      audit: new SyncAudit(context.stateStore, systemClock),
      events,
      // Without a controller in this process, database locks are read from their tables; in-memory (ConfigMap)
      // holders live in the controller and are not shown.
      snapshot: (identity: LockIdentity) => (sync.engine ? sync.engine.manager.snapshot(identity) : readDatabaseLock(identity, sync)),
    });
    await routes.register(workflowRoutes, { store: workflowStore, hydrate: (workflow) => nodeStatus().hydrate(workflow) });
    await routes.register(archivedWorkflowRoutes, { archive });
    await routes.register(configRoutes, {
      sections,
      namespace,
    });
  };
  const ui: FastifyPluginAsync = async (root) => {
    await root.register(uiRoutes, { baseHref: serverOptions.baseHref });
  };
  const running = await startServer(
    serverOptions,
    {
      authorizer: policy ?? new KubernetesAuthorizer(kubernetes!),
      metricsRegistry,
      ...(role === 'controller' ? {} : { apiRoutes: [api], rootRoutes: [ui] }),
      readinessChecks: [
        {
          name: 'syncDatabase',
          check: async () => {
            await sql`select 1`.execute(sync.database.db);
            return { ready: true };
          },
        },
      ],
    },
    say,
  );
  return {
    url: running.url,
    server: running,
    token,
    context,
    get engine() {
      return sync.engine;
    },
    get workflows() {
      return replica?.workflows;
    },
    onWake(listener) {
      wakeListeners.add(listener);
      return () => wakeListeners.delete(listener);
    },
    async stop() {
      stopWatchingConfig();
      await running.close();
      await replica?.stop();
      await workflowStore.close();
      await sync.engine?.stop();
      await embeddedConfigMaps?.close();
      if (sync.database !== context.stateStore) await sync.database.destroy();
      await persistence?.destroy();
      await context.close();
    },
  };
}
