import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sql } from 'kysely';
import { Command } from 'commander';
import { FileConfigSource } from '../config/file-config-source.js';
import { parseRuntimeConfig, type RuntimeConfig } from '../config/runtime-config.js';
import { toConnectionSpec } from '../config/connection.js';
import { inlineSecretResolver } from '../config/inline-secret-resolver.js';
import { startSyncEngine } from '../controller/sync-engine.js';
import { migrateArgosyncSchema } from '../store/migrations/argosync-migrations.js';
import { migratePersistenceSchema } from '../store/migrations/persistence-migrations.js';
import { migrateSyncSchema } from '../store/migrations/sync-migrations.js';
import { SqlConfigMapStore } from '../store/sql-configmap-store.js';
import { openDatabase, parseDatabaseUrl, type SqlDatabase } from '../store/sql-database.js';
import { policyFilePath, PolicyFileAuthorizer } from '../server/auth/policy-file-authorizer.js';
import { startServer } from '../server/app.js';
import { resolveServerOptions } from '../server/server-options.js';

interface RuntimeFlags {
  readonly home?: string;
  readonly config?: string;
  readonly stateStore?: string;
  readonly controllerName?: string;
}

interface UpFlags extends RuntimeFlags {
  readonly port: string;
  readonly address: string;
  readonly secure: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly authMode: string[];
  readonly baseHref?: string;
  readonly apiRateLimit?: string;
  readonly apiRateLimitWindow?: string;
  readonly rateLimitKeyHeaders?: string;
  readonly logFormat: string;
}

/** What every runtime command shares: the home, the configuration and the databases it names. */
interface RuntimeContext {
  readonly home: string;
  readonly config: RuntimeConfig;
  readonly stateStore: SqlDatabase;
  /** The configured sync database, or the state store when none is configured (SPEC §4). */
  readonly syncDatabase: SqlDatabase;
  readonly persistenceDatabase: SqlDatabase | undefined;
  close(): Promise<void>;
}

async function openRuntime(flags: RuntimeFlags, say: (line: string) => void): Promise<RuntimeContext> {
  const home = resolve(flags.home ?? process.env.ARGOSYNC_HOME ?? '.argosync');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const loaded = flags.config ? await new FileConfigSource({ path: flags.config }).load() : parseRuntimeConfig({});
  const config: RuntimeConfig = {
    ...loaded,
    synchronization: { ...loaded.synchronization, ...(flags.controllerName ? { controllerName: flags.controllerName } : {}) },
  };
  const stateSpec = parseDatabaseUrl(flags.stateStore ?? `pglite:${join(home, 'state')}`);
  say(`opening the state store (${stateSpec.driver}${stateSpec.driver === 'pglite' ? ` in ${stateSpec.dataDir}` : ''})`);
  const opened: SqlDatabase[] = [];
  const open = async (spec: Parameters<typeof openDatabase>[0]) => {
    const database = await openDatabase(spec);
    opened.push(database);
    return database;
  };
  try {
    const stateStore = await open(stateSpec);
    await migrateArgosyncSchema(stateStore);
    const secrets = inlineSecretResolver();
    const syncSpec = await toConnectionSpec(config.synchronization, secrets);
    const syncDatabase = syncSpec ? await open(syncSpec) : stateStore;
    say(`sync database: ${syncDatabase.description}`);
    const persistenceSpec = await toConnectionSpec(config.persistence, secrets);
    const persistenceDatabase = persistenceSpec ? await open(persistenceSpec) : undefined;
    return {
      home,
      config,
      stateStore,
      syncDatabase,
      persistenceDatabase,
      close: async () => {
        for (const database of opened.reverse()) await database.destroy();
      },
    };
  } catch (error) {
    for (const database of opened.reverse()) await database.destroy();
    throw error;
  }
}

const runtimeOptions = (command: Command): Command =>
  command
    .option('--home <dir>', 'data directory (default $ARGOSYNC_HOME or ./.argosync)')
    .option('--config <file>', 'configuration file (Argo workflow-controller-configmap sections)')
    .option('--state-store <url>', 'state store: postgres://, mysql:// or pglite:<dir> (default: embedded in the home)')
    .option('--controller-name <name>', 'name of this controller in the sync database');

/** `argosync up`: the embedded runtime in one process, and `argosync migrate`. */
export function runtimeCommands(say: (line: string) => void): Command[] {
  const up = runtimeOptions(new Command('up').description('run the embedded runtime: controller, API server and embedded database in one process'))
    .option('--port <port>', 'port to listen on', '2746')
    .option('--address <address>', 'address to listen on', '127.0.0.1')
    .option('--secure <bool>', 'serve HTTPS with a generated or given certificate', 'true')
    .option('--tls-cert <file>', 'PEM certificate to serve')
    .option('--tls-key <file>', 'PEM key of --tls-cert')
    .option('--auth-mode <mode...>', 'server or client (repeatable)', ['client'])
    .option('--base-href <path>', 'path prefix the server is reached under', process.env.ARGOSYNC_BASE_HREF)
    .option('--api-rate-limit <n>', 'requests per window per client')
    .option('--api-rate-limit-window <duration>', 'rate limit window, e.g. 1m or 1s')
    .option('--rate-limit-key-headers <headers>', 'comma-separated headers that key the rate limit')
    .option('--log-format <format>', 'text or json', 'text')
    .action(async (flags: UpFlags) => {
      const runtime = await openRuntime(flags, say);
      const engine = await startSyncEngine({
        config: runtime.config.synchronization,
        syncDatabase: runtime.syncDatabase,
        configMaps: new SqlConfigMapStore(runtime.stateStore),
        onWake: () => undefined, // workflows arrive with the workflow controller; until then nothing waits
        onError: (task, error) => say(`sync ${task} failed, retrying: ${(error as Error).message}`),
      });
      say(`controller ${runtime.config.synchronization.controllerName} started (sync schema ready, heartbeat every ${runtime.config.synchronization.heartbeatSeconds}s)`);
      const serverOptions = resolveServerOptions({
        port: flags.port,
        address: flags.address,
        secure: flags.secure,
        home: runtime.home,
        authModes: flags.authMode,
        logFormat: flags.logFormat,
        ...(flags.tlsCert ? { tlsCert: flags.tlsCert } : {}),
        ...(flags.tlsKey ? { tlsKey: flags.tlsKey } : {}),
        ...(flags.baseHref ? { baseHref: flags.baseHref } : {}),
        ...(flags.apiRateLimit ? { apiRateLimit: flags.apiRateLimit } : {}),
        ...(flags.apiRateLimitWindow ? { apiRateLimitWindow: flags.apiRateLimitWindow } : {}),
        ...(flags.rateLimitKeyHeaders ? { rateLimitKeyHeaders: flags.rateLimitKeyHeaders.split(',') } : {}),
      });
      const authorizer = await PolicyFileAuthorizer.load(policyFilePath(runtime.home));
      const token = await authorizer.createAdminToken();
      const server = await startServer(serverOptions, {
        authorizer,
        metricsRegistry: engine.metricsRegistry,
        readinessChecks: [
          {
            name: 'syncDatabase',
            check: async () => {
              await sql`select 1`.execute(runtime.syncDatabase.db);
              return { ready: true };
            },
          },
        ],
      }, say);
      say(`admin token (shown once; also set ARGOSYNC_ADMIN_TOKEN to fix it): ${token}`);
      say(`data directory: ${runtime.home}`);
      say(`check it: curl -k -H "Authorization: Bearer <token>" ${server.url}api/v1/version`);
      await new Promise<void>((done) => {
        const shutdown = () => {
          say('shutting down');
          done();
        };
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
      });
      await server.close();
      await engine.stop();
      await runtime.close();
    });

  const migrate = runtimeOptions(new Command('migrate').description('create or upgrade the state store, sync and persistence schemas, then exit')).action(async (flags: RuntimeFlags) => {
    const runtime = await openRuntime(flags, say);
    try {
      say(`state store: argosync schema ready`);
      const { synchronization, persistence } = runtime.config;
      if (!synchronization.skipMigration) say(`sync database: sync_schema_history at version ${await migrateSyncSchema(runtime.syncDatabase, synchronization)}`);
      if (runtime.persistenceDatabase && !persistence.skipMigration) {
        const version = await migratePersistenceSchema(runtime.persistenceDatabase, { tableName: persistence.tableName ?? 'argo_workflows' });
        say(`persistence database: schema_history at version ${version}`);
      }
    } finally {
      await runtime.close();
    }
  });
  return [up, migrate];
}
