import { joinPath, type ConfigProblem } from './config-problems.js';
import { parseArgoTtl } from './duration.js';
import type { DatabaseConnectionConfig, DatabaseEndpoint, SecretKeySelector, SecretSource } from './runtime-config.js';

/** Argo's `DatabaseConfig` plus its PostgreSQL/MySQL extras, as the schema admits it. */
export interface RawDatabase {
  readonly host: string;
  readonly port?: number;
  readonly database: string;
  readonly tableName?: string;
  readonly userNameSecret?: SecretKeySelector;
  readonly passwordSecret?: SecretKeySelector;
  readonly userName?: string;
  readonly password?: string;
  readonly ssl?: boolean;
  readonly sslMode?: 'disable' | 'require' | 'verify-ca' | 'verify-full';
  readonly options?: Readonly<Record<string, string>>;
}

/** Argo's `DBConfig`, flattened into `synchronization` and `persistence`. */
export interface RawDatabaseSection {
  readonly postgresql?: RawDatabase;
  readonly mysql?: RawDatabase;
  readonly connectionPool?: { readonly maxIdleConns?: number; readonly maxOpenConns?: number; readonly connMaxLifetime?: string };
  readonly reconnectionConfig?: {
    readonly maxRetries?: number;
    readonly baseDelaySeconds?: number;
    readonly maxDelaySeconds?: number;
    readonly retryMultiple?: number;
  };
  readonly connectionTimeoutSeconds?: number;
}

/** The configured database of a section (at most one), with the key it sits under. */
function chooseDatabase(
  section: RawDatabaseSection,
  path: string,
  problems: ConfigProblem[],
): { readonly raw: RawDatabase; readonly path: string; readonly driver: 'postgresql' | 'mysql' } | undefined {
  // Argo's type detection checks postgresql first and silently ignores mysql when both are set;
  // argosync refuses to guess which database holds the data, so this is an error here.
  if (section.postgresql !== undefined && section.mysql !== undefined) {
    problems.push({ path, reason: 'both postgresql and mysql are set; keep only one (Argo would silently use postgresql)' });
  }
  if (section.postgresql !== undefined) return { raw: section.postgresql, path: joinPath(path, 'postgresql'), driver: 'postgresql' };
  if (section.mysql !== undefined) return { raw: section.mysql, path: joinPath(path, 'mysql'), driver: 'mysql' };
  return undefined;
}

function secretSource(
  inline: string | undefined,
  reference: SecretKeySelector | undefined,
  names: readonly [inline: string, reference: string],
  path: string,
  problems: ConfigProblem[],
): SecretSource | undefined {
  if (inline !== undefined && reference !== undefined) {
    problems.push({ path: joinPath(path, names[0]), reason: `set either ${names[0]} or ${names[1]}, not both` });
  }
  if (inline !== undefined) return { inline };
  if (reference !== undefined) return { secretKeyRef: reference };
  return undefined;
}

function endpointOf(
  chosen: NonNullable<ReturnType<typeof chooseDatabase>>,
  problems: ConfigProblem[],
): DatabaseEndpoint {
  const { raw, path, driver } = chosen;
  const common = {
    host: raw.host,
    // Argo: port 0 means "host only", i.e. the driver's default port.
    ...(raw.port ? { port: raw.port } : {}),
    database: raw.database,
    userName: secretSource(raw.userName, raw.userNameSecret, ['userName', 'userNameSecret'], path, problems),
    password: secretSource(raw.password, raw.passwordSecret, ['password', 'passwordSecret'], path, problems),
  };
  if (driver === 'mysql') return { driver, ...common, options: raw.options ?? {} };
  // Argo builds `sslmode=disable` whenever ssl is off, whatever sslMode says, and `prefer` when ssl is on without a mode.
  const ssl = raw.ssl ?? false;
  return { driver, ...common, ssl, ...(ssl && raw.sslMode !== undefined ? { sslMode: raw.sslMode } : {}) };
}

/** Applies Argo's code defaults to the connection keys of a section. */
export function readDatabaseSection(
  section: RawDatabaseSection,
  path: string,
  problems: ConfigProblem[],
): DatabaseConnectionConfig {
  const chosen = chooseDatabase(section, path, problems);
  const pool = section.connectionPool ?? {};
  const reconnection = section.reconnectionConfig ?? {};
  const retryMultiple = reconnection.retryMultiple ?? 2;
  return {
    ...(chosen === undefined ? {} : { endpoint: endpointOf(chosen, problems) }),
    connectionPool: {
      ...(pool.maxIdleConns === undefined ? {} : { maxIdleConns: pool.maxIdleConns }),
      ...(pool.maxOpenConns === undefined ? {} : { maxOpenConns: pool.maxOpenConns }),
      ...(pool.connMaxLifetime === undefined ? {} : { connMaxLifetimeMs: parseArgoTtl(pool.connMaxLifetime)! }),
    },
    reconnection: {
      maxRetries: reconnection.maxRetries ?? 5,
      baseDelayMs: reconnection.baseDelaySeconds ? reconnection.baseDelaySeconds * 1000 : 100,
      maxDelayMs: (reconnection.maxDelaySeconds ?? 30) * 1000,
      retryMultiple: retryMultiple < 1 ? 1 : retryMultiple, // below 1 the delays would shrink towards a busy loop
    },
    connectionTimeoutSeconds: section.connectionTimeoutSeconds || 5,
  };
}
