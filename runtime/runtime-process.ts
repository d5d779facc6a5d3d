import type { FastifyPluginAsync } from 'fastify';
import { Registry } from 'prom-client';
import { systemClock } from './clock.js';
import { ConfigSections, type SectionName, type SectionTarget } from './config/config-sections.js';
import { inlineSecretResolver } from './config/inline-secret-resolver.js';
import type { RuntimeConfig, SynchronizationConfig } from './config/runtime-config.js';
import { startSyncEngine, type SyncEngine } from './controller/sync-engine.js';
import { homeOf, openRuntime, type RuntimeContext, type RuntimeFlags } from './runtime-context.js';
import { startServer, type RunningServer } from './server/app.js';
import { createLogger } from './server/logger.js';
import { databaseReadiness } from './database-readiness.js';
import type { ReconnectionLog } from './store/reconnection-policy.js';
import { policyFilePath, PolicyFileAuthorizer } from './server/auth/policy-file-authorizer.js';
import { configRoutes } from './server/routes/config.js';
import { syncLimitRoutes } from './server/routes/sync-limits.js';
import { uiRoutes } from './server/routes/ui.js';
import { isLoopbackAddress, resolveServerOptions, serverOptionsFromConfig, type ServerOptions, type ServerOptionsInput } from './server/server-options.js';
import type { SsoService } from './server/auth/sso/sso-service.js';
import { ConfigMapLimits } from './server/sync-limits/configmap-limits.js';
import { DatabaseLimits } from './server/sync-limits/database-limits.js';
import { LimitReadCache } from './server/sync-limits/limit-read-cache.js';
import { SyncAudit } from './server/sync-limits/sync-audit.js';
import { SyncEvents } from './server/sync-limits/sync-events.js';
import { readSchemaVersion } from './store/migrations/migration-runner.js';
import { SYNC_SCHEMA_VERSION_TABLE } from './store/migrations/sync-migrations.js';
import type { ConfigMapStore } from './store/configmap-store.js';
import { SqlConfigMapStore } from './store/sql-configmap-store.js';
import { announceLimitChange } from './controller/sync/database-sync.js';
import { databaseLockSnapshot } from './controller/sync/database-lock.js';
import { SyncStore } from './store/sync/sync-store.js';
import type { LockSnapshot } from './controller/sync/lock.js';
import { databaseLimitKey, databaseLockKey, encodeLockName, type LockIdentity } from './controller/sync/lock-name.js';
import { InvalidArgumentError, NotFoundError } from './errors.js';
import type { SqlDatabase } from './store/sql-database.js';
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
  /** The sync tables: the engine's store, or one of its own in the `server` role. */
  readonly store: SyncStore;
  readonly engine: SyncEngine | undefined;
  readonly limits: DatabaseLimits | undefined;
}

/** A database lock's holders and queue read straight from the sync tables, for a server without a controller. */
async function readDatabaseLock(identity: LockIdentity, sync: SyncInUse): Promise<LockSnapshot> {
  if (identity.kind !== 'Database') throw new NotFoundError('holders of ConfigMap semaphores are known to the controller only');
  const limit = identity.mutex ? 1 : await sync.store.limits.read(databaseLimitKey(identity.namespace, identity.name));
  const liveCutoff = new Date(Date.now() - sync.config.inactiveControllerSeconds * 1000);
  const lock = { name: encodeLockName(identity), kind: identity.mutex ? 'mutex' : 'semaphore' } as const;
  return databaseLockSnapshot(lock, limit ?? undefined, sync.store.lock(databaseLockKey(identity)), liveCutoff);
}

/**
 * The runtime in one process: the state store (PGlite by default), the controller's synchronization engine,
 * and the API server with the sync limits and config APIs and the UI, as `role` selects. On Kubernetes
 * (in a Pod, or with `KUBECONFIG`) ConfigMaps are real ConfigMaps and tokens are checked by the cluster;
 * elsewhere the state store and the policy file in the home serve. The config API switches the sync
 * database live.
 */
export async function startRuntime(flags: RuntimeFlags, server: ServerOptionsInput, say: (line: string) => void, role: RuntimeRole = 'all'): Promise<RunningRuntime> {
  const defaults = { address: role === 'all' ? '127.0.0.1' : '0.0.0.0', authModes: ['client'], home: homeOf(flags) };
  // A bad server flag is refused before anything is opened or started.
  const flagOptions = resolveServerOptions({ ...defaults, ...server });
  // One logger for the process: the server's request lines and the databases' outages and reconnections.
  const logger = createLogger({ format: flagOptions.logFormat, level: flagOptions.logLevel });
  const databaseLog: ReconnectionLog = { warn: (line) => logger.warn(line), info: (line) => logger.info(line) };
  const context = await openRuntime(flags, say, databaseLog);
  // The config file's `server` section fills in what no flag gave.
  let serverOptions: ServerOptions;
  try {
    serverOptions = resolveServerOptions({ ...defaults, ...serverOptionsFromConfig(context.config.server), ...server });
  } catch (error) {
    await context.close();
    throw error;
  }
  const { kubernetes } = context;
  const policy = kubernetes ? undefined : await PolicyFileAuthorizer.load(policyFilePath(context.home));
  const sso = await startSsoIfEnabled(serverOptions, context, policy).catch(async (error: unknown) => {
    await context.close();
    throw error;
  });
  const embeddedConfigMaps = kubernetes ? undefined : new SqlConfigMapStore(context.stateStore);
  // The Kubernetes-backed parts load only on Kubernetes (see kubernetesFromEnvironment).
  const configMaps: ConfigMapStore = embeddedConfigMaps ?? new (await import('./store/kubernetes-configmap-store.js')).KubernetesConfigMapStore(kubernetes!);
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
            onWarning: (line) => logger.warn(line),
          });
    const store = engine?.database.store ?? new SyncStore(database, config);
    const limits = config.enableAPI
      ? new DatabaseLimits(
          store.limits,
          (namespace, key) => {
            void announceLimitChange(store, databaseLockKey({ kind: 'Database', namespace, name: key, mutex: false })).catch(() => undefined);
          },
          // Embedded PGlite: this process owns the data directory, so every limit write passes through here.
          database.engine.driver === 'pglite' ? new LimitReadCache() : undefined,
        )
      : undefined;
    if (engine) say(`controller ${config.controllerName} started on ${database.description} (heartbeat every ${config.heartbeatSeconds}s)`);
    return { config, database, store, engine, limits };
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
      const controllers = await sync.store.controllers.list();
      return {
        schemaVersion: await readSchemaVersion(sync.database, SYNC_SCHEMA_VERSION_TABLE),
        database: sync.database.description,
        controllers: controllers.map((row) => ({ name: row.name, lastHeartbeat: row.lastHeartbeat?.toISOString() ?? null })),
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

  const sections = new ConfigSections(context.configSource, inlineSecretResolver(), target, databaseLog);
  const stopWatchingConfig = await context.configSource.watch(
    (config) => void sections.reload(config, (error) => say(`configuration change not applied: ${error.message}`)),
    (error) => say(`configuration rejected, keeping the last good one: ${error.message}`),
  );
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
    await root.register(uiRoutes, { baseHref: serverOptions.baseHref, authModes: serverOptions.authModes });
  };
  const running = await startServer(
    serverOptions,
    {
      authorizer: policy ?? new (await import('./server/auth/kubernetes-authorizer.js')).KubernetesAuthorizer(kubernetes!),
      metricsRegistry,
      ...(sso ? { sso } : {}),
      logger,
      ...(role === 'controller' ? {} : { apiRoutes: [api], rootRoutes: [ui] }),
      readinessChecks: [
        databaseReadiness('stateStore', () => ({ database: context.stateStore })),
        databaseReadiness('syncDatabase', () =>
          sync.database === context.stateStore ? { database: sync.database, note: 'the state store serves: no sync database configured' } : { database: sync.database },
        ),
        databaseReadiness('persistenceDatabase', () => (persistence ? { database: persistence } : { database: undefined, note: 'not configured' })),
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

/**
 * SSO (SPEC §7.7) when `--auth-mode sso` is on: its libraries load only then, so other start-ups stay fast.
 * Credentials, the cookie key and discovery are settled before anything listens.
 */
async function startSsoIfEnabled(options: ServerOptions, context: RuntimeContext, policy: PolicyFileAuthorizer | undefined): Promise<SsoService | undefined> {
  if (!options.authModes.includes('sso')) return undefined;
  const sso = context.config.sso;
  if (sso === undefined) throw new InvalidArgumentError(`invalid configuration in ${context.configSource.description}: sso.issuer: required when --auth-mode sso is on`);
  const namespace = process.env.ARGOSYNC_NAMESPACE ?? 'default';
  const { startSso } = await import('./server/auth/sso/sso-service.js');
  return startSso({
    sso,
    home: context.home,
    kubernetes: context.kubernetes,
    namespace,
    resolveSecret: context.kubernetes ? (await import('./config/kubernetes-secret-resolver.js')).kubernetesSecretResolver(context.kubernetes, namespace) : inlineSecretResolver(),
    policyServiceAccounts: policy && { candidates: async (ns) => policy.serviceAccountCandidates(ns) },
    baseHref: options.baseHref,
    site: options,
    clock: systemClock,
  });
}
