import { hostname } from 'node:os';
import { invalidConfiguration, problemsFromAjv, type ConfigProblem } from './config-problems.js';
import { validateConfigDocument } from './config-schema.js';
import { readDatabaseSection, type RawDatabaseSection } from './database-section.js';
import { parseArgoTtl } from './duration.js';
import { substituteEnvironment } from './env-substitution.js';
import { readSsoSection, type RawSsoSection, type SsoConfig } from './sso-section.js';

/** Kubernetes `SecretKeySelector`: key `key` of Secret `name` in the runtime's namespace. */
export interface SecretKeySelector {
  readonly name: string;
  readonly key: string;
  readonly optional?: boolean;
}

/** A credential: given inline (outside Kubernetes, `${ENV}` already expanded) or by Secret reference. */
export type SecretSource = { readonly inline: string } | { readonly secretKeyRef: SecretKeySelector };

interface DatabaseEndpointBase {
  readonly host: string;
  /** Undefined means the driver's default port (Argo: port 0 is "host only"). */
  readonly port?: number;
  readonly database: string;
  readonly userName?: SecretSource;
  readonly password?: SecretSource;
}

export interface PostgreSQLEndpoint extends DatabaseEndpointBase {
  readonly driver: 'postgresql';
  readonly ssl: boolean;
  /** Only when `ssl`; undefined with `ssl` means libpq's `prefer`. */
  readonly sslMode?: 'disable' | 'require' | 'verify-ca' | 'verify-full';
}

export interface MySQLEndpoint extends DatabaseEndpointBase {
  readonly driver: 'mysql';
  readonly options: Readonly<Record<string, string>>;
}

export type DatabaseEndpoint = PostgreSQLEndpoint | MySQLEndpoint;

/**
 * Argo's `DBConfig` with its code defaults applied: the connection keys shared by
 * `synchronization` and `persistence`. `endpoint` is undefined when the section names no database.
 */
export interface DatabaseConnectionConfig {
  readonly endpoint?: DatabaseEndpoint;
  readonly connectionPool: {
    readonly maxIdleConns?: number;
    readonly maxOpenConns?: number;
    readonly connMaxLifetimeMs?: number;
  };
  /** `reconnectionConfig`: baseDelaySeconds 0 is 100 ms; retryMultiple ≤ 0 is 1. */
  readonly reconnection: {
    readonly maxRetries: number;
    readonly baseDelayMs: number;
    readonly maxDelayMs: number;
    readonly retryMultiple: number;
  };
  readonly connectionTimeoutSeconds: number;
}

/** SPEC §5: `wait` (argosync's default) keeps a workflow Pending on a missing limit; `error` is Argo's behaviour. */
export type MissingLimitPolicy = 'wait' | 'error';

export interface SynchronizationConfig extends DatabaseConnectionConfig {
  readonly enableAPI: boolean;
  readonly controllerName: string;
  readonly skipMigration: boolean;
  readonly limitTableName: string;
  readonly stateTableName: string;
  readonly controllerTableName: string;
  readonly lockTableName: string;
  readonly pollSeconds: number;
  readonly heartbeatSeconds: number;
  readonly inactiveControllerSeconds: number;
  readonly semaphoreLimitCacheSeconds: number;
  readonly missingLimit: MissingLimitPolicy;
  readonly reclaimInactiveHolds: boolean;
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    readonly values?: readonly string[];
  }[];
}

export interface PersistenceConfig extends DatabaseConnectionConfig {
  /** The offload table (`postgresql.tableName` / `mysql.tableName`); set whenever `endpoint` is. */
  readonly tableName?: string;
  readonly nodeStatusOffLoad: boolean;
  readonly archive: boolean;
  /** Undefined archives every workflow. */
  readonly archiveLabelSelector?: LabelSelector;
  /** 0 keeps archived workflows forever. */
  readonly archiveTTLMs: number;
  readonly clusterName: string;
  readonly skipMigration: boolean;
  /** The connection is the synchronization section's (argosync's `useSyncDatabase`). */
  readonly useSyncDatabase: boolean;
}

export type AuthMode = 'server' | 'client' | 'sso';

/** Defaults for `argosync server`; command-line flags override them. */
export interface ServerConfig {
  readonly port: number;
  /** Undefined: `argosync up` listens on 127.0.0.1, `argosync server` on all interfaces. */
  readonly address?: string;
  readonly secure: boolean;
  readonly hsts: boolean;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly authMode: readonly AuthMode[];
  readonly baseHref: string;
  readonly apiRateLimit: number;
  readonly apiRateLimitWindowMs: number;
  readonly rateLimitKeyHeaders: readonly string[];
  readonly maxBodyBytes: number;
}

/** How leaf nodes run (`--executor`, `executor.type`; SPEC §6). */
export type ExecutorName = 'local' | 'kubernetes';

export interface ExecutorConfig {
  /** Undefined: `local` when the server listens on loopback, else none until `--executor` says. */
  readonly type?: ExecutorName;
  readonly namespace?: string;
  readonly serviceAccountName?: string;
}

export interface RuntimeConfig {
  readonly synchronization: SynchronizationConfig;
  readonly persistence: PersistenceConfig;
  readonly server: ServerConfig;
  readonly executor: ExecutorConfig;
  /** Read once at start when `--auth-mode sso` is on (SPEC §7.7). */
  readonly sso?: SsoConfig;
}

export interface ParseOptions {
  /** Variables for `${NAME}` references; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default `controllerName` when no database is set; default `os.hostname()`. */
  readonly hostname?: string;
  /** Named in error messages, e.g. the file path. */
  readonly source?: string;
  /** `synchronization.enableAPI` when the document does not say: false as in Argo; `argosync up` passes true. */
  readonly enableAPIByDefault?: boolean;
}

type Raw<T> = { readonly [K in keyof T]?: T[K] };
type RawSynchronization = RawDatabaseSection & Raw<Omit<SynchronizationConfig, keyof DatabaseConnectionConfig>>;
type RawPersistence = RawDatabaseSection &
  Raw<Omit<PersistenceConfig, keyof DatabaseConnectionConfig | 'archiveTTLMs'>> & { readonly archiveTTL?: string };
type RawServer = Raw<Omit<ServerConfig, 'apiRateLimitWindowMs'>> & { readonly apiRateLimitWindow?: string };
interface RawDocument {
  readonly synchronization?: RawSynchronization;
  readonly persistence?: RawPersistence;
  readonly server?: RawServer;
  readonly executor?: ExecutorConfig;
  readonly sso?: RawSsoSection;
}

/**
 * Validates a configuration document (YAML/JSON already parsed; null/undefined is an empty one),
 * expands `${ENV}` references and applies Argo's code defaults (not the documented ones: SPEC §3).
 * Throws one InvalidArgumentError naming every bad key and why; credentials never appear in it.
 */
export function parseRuntimeConfig(input: unknown, options: ParseOptions = {}): RuntimeConfig {
  const problems: ConfigProblem[] = [];
  const document = substituteEnvironment(input ?? {}, options.env ?? process.env, problems);
  if (!validateConfigDocument(document)) problems.push(...problemsFromAjv(validateConfigDocument.errors ?? []));
  if (problems.length > 0) throw invalidConfiguration(problems, options.source);

  const raw = document as RawDocument;
  const config: RuntimeConfig = {
    synchronization: readSynchronization(raw.synchronization ?? {}, options.hostname ?? hostname(), options.enableAPIByDefault ?? false, problems),
    persistence: readPersistence(raw.persistence ?? {}, raw.synchronization ?? {}, problems),
    server: readServer(raw.server ?? {}, problems),
    executor: raw.executor ?? {},
    ...(raw.sso === undefined ? {} : { sso: readSsoSection(raw.sso, problems) }),
  };
  if (problems.length > 0) throw invalidConfiguration(problems, options.source);
  return deepFreeze(config);
}

function readSynchronization(raw: RawSynchronization, host: string, enableAPIByDefault: boolean, problems: ConfigProblem[]): SynchronizationConfig {
  const connection = readDatabaseSection(raw, 'synchronization', problems);
  if (connection.endpoint !== undefined && raw.controllerName === undefined) {
    problems.push({
      path: 'synchronization.controllerName',
      reason: 'required when a database is set: every controller sharing the database needs its own name',
    });
  }
  const heartbeatSeconds = raw.heartbeatSeconds ?? 60;
  const inactiveControllerSeconds = raw.inactiveControllerSeconds ?? 600;
  if (inactiveControllerSeconds <= heartbeatSeconds) {
    problems.push({
      path: 'synchronization.inactiveControllerSeconds',
      reason: `must be greater than heartbeatSeconds (${heartbeatSeconds}), or live controllers are declared inactive`,
    });
  }
  return {
    ...connection,
    enableAPI: raw.enableAPI ?? enableAPIByDefault,
    controllerName: raw.controllerName ?? host,
    skipMigration: raw.skipMigration ?? false,
    limitTableName: raw.limitTableName ?? 'sync_limit',
    stateTableName: raw.stateTableName ?? 'sync_state',
    controllerTableName: raw.controllerTableName ?? 'sync_controller',
    lockTableName: raw.lockTableName ?? 'sync_lock',
    pollSeconds: raw.pollSeconds ?? 10,
    heartbeatSeconds,
    inactiveControllerSeconds,
    semaphoreLimitCacheSeconds: raw.semaphoreLimitCacheSeconds ?? 0,
    missingLimit: raw.missingLimit ?? 'wait',
    reclaimInactiveHolds: raw.reclaimInactiveHolds ?? true,
  };
}

function readPersistence(raw: RawPersistence, synchronization: RawSynchronization, problems: ConfigProblem[]): PersistenceConfig {
  const useSyncDatabase = raw.useSyncDatabase ?? false;
  const connection = useSyncDatabase ? syncConnectionFor(raw, synchronization, problems) : raw;
  const database = connection.postgresql ?? connection.mysql;
  const tableName = database?.tableName;
  if (!useSyncDatabase && raw.tableName !== undefined) {
    problems.push({ path: 'persistence.tableName', reason: 'belongs under postgresql or mysql (at the top level only with useSyncDatabase)' });
  }
  if (database !== undefined && tableName === undefined) {
    const path = `persistence.${database === raw.postgresql ? 'postgresql' : 'mysql'}.tableName`;
    problems.push({ path, reason: 'TableName is empty (conventionally argo_workflows)' });
  }
  const { archiveTTL, ...rest } = raw;
  return {
    ...readDatabaseSection(connection, 'persistence', problems),
    ...(tableName === undefined ? {} : { tableName }),
    nodeStatusOffLoad: rest.nodeStatusOffLoad ?? false,
    archive: rest.archive ?? false,
    ...(rest.archiveLabelSelector === undefined ? {} : { archiveLabelSelector: rest.archiveLabelSelector }),
    archiveTTLMs: parseArgoTtl(archiveTTL ?? '')!,
    clusterName: rest.clusterName ?? 'default',
    skipMigration: rest.skipMigration ?? false,
    useSyncDatabase,
  };
}

/** The persistence section with the synchronization section's database (and the table named at the top level). */
function syncConnectionFor(raw: RawPersistence, synchronization: RawSynchronization, problems: ConfigProblem[]): RawPersistence {
  if (raw.postgresql !== undefined || raw.mysql !== undefined) {
    problems.push({ path: 'persistence.useSyncDatabase', reason: 'set either useSyncDatabase or a postgresql/mysql connection, not both' });
    return raw;
  }
  const driver = synchronization.postgresql !== undefined ? 'postgresql' : synchronization.mysql !== undefined ? 'mysql' : undefined;
  if (driver === undefined) {
    problems.push({
      path: 'persistence.useSyncDatabase',
      reason: 'the synchronization section names no database (the embedded state store cannot hold persistence): set synchronization.postgresql or .mysql first',
    });
    return raw;
  }
  return { ...raw, [driver]: { ...synchronization[driver], tableName: raw.tableName ?? 'argo_workflows' } };
}

function readServer(raw: RawServer, problems: ConfigProblem[]): ServerConfig {
  if ((raw.tlsCert === undefined) !== (raw.tlsKey === undefined)) {
    problems.push({ path: raw.tlsCert === undefined ? 'server.tlsCert' : 'server.tlsKey', reason: 'tlsCert and tlsKey go together' });
  }
  const { apiRateLimitWindow, ...rest } = raw;
  return {
    ...rest,
    port: raw.port ?? 2746,
    secure: raw.secure ?? true,
    hsts: raw.hsts ?? true,
    authMode: raw.authMode ?? ['client'],
    baseHref: raw.baseHref ?? '/',
    apiRateLimit: raw.apiRateLimit ?? 1000,
    apiRateLimitWindowMs: parseArgoTtl(apiRateLimitWindow ?? '1m')!,
    rateLimitKeyHeaders: raw.rateLimitKeyHeaders ?? [],
    maxBodyBytes: raw.maxBodyBytes ?? 1_048_576,
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
