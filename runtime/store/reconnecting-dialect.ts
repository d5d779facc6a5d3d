import type { CompiledQuery, DatabaseConnection, Dialect, Driver, Kysely, QueryCompiler, QueryResult, TransactionSettings } from 'kysely';
import { UnavailableError } from '../errors.js';
import { connectionFailureReason } from './connection-failure.js';
import { reconnect, silentReconnectionLog } from './reconnection-policy.js';
import type { EngineOpening } from './sql-database.js';

/**
 * Wraps a network dialect (PostgreSQL, MySQL) so that every pool behaves alike during an outage: taking a
 * connection is retried with the reconnection policy (nothing has been sent yet, so this is always safe; see
 * acquireConnection); a connection failure, then or mid-query, surfaces as `UnavailableError` (503) naming
 * the database; the outage is logged once at warn and the recovery at info, and the recovery fires the
 * database's reconnected listeners. Statements themselves are never retried here: a write whose connection
 * broke may or may not have committed, and only its caller knows whether to retry.
 */
export function reconnectingDialect(dialect: Dialect, opening: EngineOpening): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new ReconnectingDriver(dialect.createDriver(), new Outages(opening)),
    createIntrospector: (db: Kysely<unknown>) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

/** Whether the database is in an outage, and the log lines and hook at its start and end. */
class Outages {
  readonly #options: EngineOpening;
  #since: number | undefined;

  constructor(options: EngineOpening) {
    this.#options = options;
  }

  get options(): EngineOpening {
    return this.#options;
  }

  get ongoing(): boolean {
    return this.#since !== undefined;
  }

  /** Runs `operation`, turning a connection failure into UnavailableError and tracking the outage. */
  async guard<T>(operation: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await operation();
    } catch (error) {
      const reason = connectionFailureReason(error);
      if (reason === undefined) throw error;
      if (this.#since === undefined) {
        this.#since = Date.now();
        this.#options.log.warn(`${this.#options.name} is unavailable: ${reason}; reconnecting as reconnectionConfig says`);
      }
      throw new UnavailableError(`${this.#options.name} is unavailable: ${reason}`, { cause: error });
    }
    if (this.#since !== undefined) {
      this.#options.log.info(`${this.#options.name} is available again after ${Date.now() - this.#since} ms`);
      this.#since = undefined;
      this.#options.reconnected.emit();
    }
    return result;
  }
}

class ReconnectingConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    readonly outages: Outages,
  ) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.outages.guard(() => this.inner.executeQuery<R>(query));
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

class ReconnectingDriver implements Driver {
  /** Aborted by destroy: callers waiting to retry stop at once. */
  readonly #destroying = new AbortController();

  constructor(
    readonly inner: Driver,
    readonly outages: Outages,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  /**
   * While the database is believed up, a failed attempt is retried with the policy, so that a restart shorter
   * than the policy's schedule goes unnoticed. During a known outage each caller tries once and hears 503 at
   * once (the first success ends the outage), rather than every request waiting out the whole schedule.
   */
  async acquireConnection(): Promise<DatabaseConnection> {
    const { reconnection: policy, name } = this.outages.options;
    const acquire = () => this.inner.acquireConnection();
    // The outage itself is logged once by Outages, not per caller and attempt.
    const connection = await this.outages.guard(() =>
      this.outages.ongoing ? acquire() : reconnect(acquire, { policy, what: `connecting to ${name}`, log: silentReconnectionLog, signal: this.#destroying.signal }),
    );
    return new ReconnectingConnection(connection, this.outages);
  }

  // The inner driver runs transaction statements through the connection it is given, so they are guarded too.
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.savepoint?.(connection, name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.rollbackToSavepoint?.(connection, name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.releaseSavepoint?.(connection, name, compile);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection((connection as ReconnectingConnection).inner);
  }

  destroy(): Promise<void> {
    this.#destroying.abort();
    return this.inner.destroy();
  }
}
