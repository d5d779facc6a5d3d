/** The SQL engines argosync speaks. */
export type Driver = 'postgresql' | 'mysql' | 'pglite';

/** Everything needed to open a database, resolved from a `--state-store` URL or a config section (SPEC §3, §4). */
export interface ConnectionSpec {
  readonly driver: Driver;
  readonly host?: string;
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  /** Never logged; descriptions of a spec omit it. */
  readonly password?: string;
  /** PostgreSQL: `ssl` and `sslMode` as Argo's `PostgreSQLConfig`. */
  readonly ssl?: boolean;
  readonly sslMode?: 'disable' | 'require' | 'verify-ca' | 'verify-full';
  /** MySQL: extra DSN parameters as Argo's `MySQLConfig.options`. */
  readonly options?: Readonly<Record<string, string>>;
  /** PostgreSQL/PGlite: schema to use (search_path), so tests and tenants can share one database. */
  readonly schema?: string;
  /** PGlite: data directory; undefined keeps the database in memory. */
  readonly dataDir?: string;
  readonly connectionTimeoutSeconds?: number;
  readonly maxOpenConns?: number;
  /** Connections kept open while idle, at most (Go's `SetMaxIdleConns`): extra idle ones close at once; unset, the driver's default. */
  readonly maxIdleConns?: number;
  /** A connection older than this is closed instead of being used again (Go's `SetConnMaxLifetime`); unset, never. */
  readonly connMaxLifetimeMs?: number;
}
