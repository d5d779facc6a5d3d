import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ConfigSource } from './config/config-source.js';
import { ConfigMapConfigSource } from './config/configmap-config-source.js';
import { FileConfigSource } from './config/file-config-source.js';
import { kubernetesFromEnvironment } from './kubernetes-access.js';
import type { ExecutorName, RuntimeConfig } from './config/runtime-config.js';
import { toConnectionSpec } from './config/connection.js';
import { inlineSecretResolver } from './config/inline-secret-resolver.js';
import { InvalidArgumentError } from './errors.js';
import { ensurePrivateHome, makeTreeOwnerOnly } from './home-permissions.js';
import { migrateArgosyncSchema } from './store/migrations/argosync-migrations.js';
import type { DatabaseRole } from './store/database-role.js';
import type { ReconnectionLog, ReconnectionPolicy } from './store/reconnection-policy.js';
import { parseDatabaseUrl, waitForDatabase, type SqlDatabase } from './store/sql-database.js';

export interface RuntimeFlags {
  readonly home?: string;
  readonly config?: string;
  readonly stateStore?: string;
  /** `--state-store-file`: a file holding the state-store URL, so its password stays out of the command line. */
  readonly stateStoreFile?: string;
  readonly controllerName?: string;
  /** `--executor`: how leaf nodes run (SPEC §6). */
  readonly executor?: ExecutorName;
}

/** What every runtime command shares: the home, the configuration and the databases it names. */
export interface RuntimeContext {
  readonly home: string;
  /** `--config`, the ConfigMap `argosync-config` on Kubernetes, or `config.yaml` in the home; the config API writes through it. */
  readonly configSource: ConfigSource;
  /** The cluster, when running in one or pointed at one with `KUBECONFIG`. */
  readonly kubernetes: KubeConfig | undefined;
  readonly config: RuntimeConfig;
  readonly stateStore: SqlDatabase;
  /** The configured sync database, or the state store when none is configured (SPEC §4). */
  readonly syncDatabase: SqlDatabase;
  readonly persistenceDatabase: SqlDatabase | undefined;
  close(): Promise<void>;
}

/** `--home`, else `ARGOSYNC_HOME`, else `./.argosync`, as an absolute path. */
export function homeOf(flags: RuntimeFlags): string {
  return resolve(flags.home ?? process.env.ARGOSYNC_HOME ?? '.argosync');
}

/** Lines for `say` when the command has no leveled logger (`argosync migrate`). */
const sayingLog = (say: (line: string) => void): ReconnectionLog => ({ warn: (line) => say(`warning: ${line}`), info: say });

/**
 * The state-store URL: `--state-store`, else the first line of `--state-store-file`, else `ARGOSYNC_STATE_STORE`,
 * else the embedded database in the home. The file and variable keep a password out of `/proc/<pid>/cmdline`.
 */
export async function stateStoreUrlOf(flags: RuntimeFlags, home: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (flags.stateStore) return flags.stateStore;
  if (flags.stateStoreFile) {
    let text: string;
    try {
      text = await readFile(flags.stateStoreFile, 'utf8');
    } catch (error) {
      throw new InvalidArgumentError(`--state-store-file ${flags.stateStoreFile} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const url = text.split('\n')[0]!.trim();
    if (url === '') throw new InvalidArgumentError(`--state-store-file ${flags.stateStoreFile} is empty: write the state-store URL on its first line`);
    return url;
  }
  return env.ARGOSYNC_STATE_STORE || `pglite:${join(home, 'state')}`;
}

/** Opens the databases the configuration names; each one that cannot be reached yet is waited for (SPEC §3 reconnectionConfig). */
export async function openRuntime(flags: RuntimeFlags, say: (line: string) => void, log: ReconnectionLog = sayingLog(say)): Promise<RuntimeContext> {
  const home = homeOf(flags);
  await ensurePrivateHome(home, say);
  const kubernetes = await kubernetesFromEnvironment();
  const parse = { enableAPIByDefault: true };
  // On Kubernetes the ConfigMap argosync-config holds the configuration, unless --config names a file.
  const configSource: ConfigSource =
    kubernetes && !flags.config
      ? new ConfigMapConfigSource(new (await import('./store/kubernetes-configmap-store.js')).KubernetesConfigMapStore(kubernetes), process.env.ARGOSYNC_NAMESPACE ?? 'default', parse)
      : new FileConfigSource({ path: flags.config ?? join(home, 'config.yaml'), parse });
  say(`configuration: ${configSource.description}`);
  const loaded = await configSource.load();
  const config: RuntimeConfig = {
    ...loaded,
    synchronization: { ...loaded.synchronization, ...(flags.controllerName ? { controllerName: flags.controllerName } : {}) },
  };
  const stateSpec = parseDatabaseUrl(await stateStoreUrlOf(flags, home));
  say(`opening the state store (${stateSpec.driver}${stateSpec.driver === 'pglite' ? ` in ${stateSpec.dataDir}` : ''})`);
  const opened: SqlDatabase[] = [];
  const open = async (spec: Parameters<typeof waitForDatabase>[0], role: DatabaseRole, reconnection?: ReconnectionPolicy) => {
    const database = await waitForDatabase(spec, { role, log, ...(reconnection ? { reconnection } : {}) });
    opened.push(database);
    return database;
  };
  try {
    // The state store's URL has no reconnectionConfig: it rides outages out with Argo's defaults.
    const stateStore = await open(stateSpec, 'state store');
    if (stateSpec.dataDir !== undefined) await makeTreeOwnerOnly(stateSpec.dataDir);
    await migrateArgosyncSchema(stateStore);
    const secrets = inlineSecretResolver();
    const syncSpec = await toConnectionSpec(config.synchronization, secrets);
    const syncDatabase = syncSpec ? await open(syncSpec, 'sync database', config.synchronization.reconnection) : stateStore;
    say(`sync database: ${syncDatabase.description}`);
    const persistenceSpec = await toConnectionSpec(config.persistence, secrets);
    const persistenceDatabase = persistenceSpec ? await open(persistenceSpec, 'persistence database', config.persistence.reconnection) : undefined;
    return {
      home,
      configSource,
      kubernetes,
      config,
      stateStore,
      syncDatabase,
      persistenceDatabase,
      close: async () => {
        for (const database of opened.reverse()) await database.destroy();
        // Files PGlite added while running (new relations, WAL segments) are tightened too.
        if (stateSpec.dataDir !== undefined) await makeTreeOwnerOnly(stateSpec.dataDir);
      },
    };
  } catch (error) {
    for (const database of opened.reverse()) await database.destroy();
    throw error;
  }
}

