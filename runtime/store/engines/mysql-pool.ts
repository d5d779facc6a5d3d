import type { MysqlPool, MysqlPoolConnection, MysqlQueryResult, MysqlStream, MysqlStreamOptions } from 'kysely';
import type { Pool, PoolConnection } from 'mysql2';
import { connectionFailureReason } from '../connection-failure.js';

/**
 * Kysely's view of a `mysql2` pool in which a connection whose query failed because the connection broke (the
 * server killed it, a restart) is destroyed when it is released rather than handed to the next caller; so is one
 * older than `maxLifetimeMs` (Argo's `connMaxLifetime`, which mysql2 has no option for), counted from when the
 * pool first handed it out.
 */
export function droppingBrokenConnections(pool: Pool, maxLifetimeMs?: number): MysqlPool {
  const firstHandedOut = new WeakMap<PoolConnection, number>();
  const expired = (connection: PoolConnection) => maxLifetimeMs !== undefined && Date.now() - (firstHandedOut.get(connection) ?? Date.now()) >= maxLifetimeMs;
  const getConnection: MysqlPool['getConnection'] = (callback) =>
    pool.getConnection((error, connection) => {
      if (error) {
        callback(error, connection);
        return;
      }
      // Retired before reuse, as Go's database/sql does: the caller gets a younger or a new one.
      if (expired(connection)) {
        connection.destroy();
        getConnection(callback);
        return;
      }
      if (!firstHandedOut.has(connection)) firstHandedOut.set(connection, Date.now());
      callback(error, new CheckedConnection(connection, expired));
    });
  return { getConnection, end: (callback) => pool.end(callback) };
}

/** What a query without a callback returns: kysely streams from it. */
interface StreamableQuery {
  stream: <T>(options: MysqlStreamOptions) => MysqlStream<T>;
}

class CheckedConnection implements MysqlPoolConnection {
  #broken = false;

  constructor(
    private readonly connection: PoolConnection,
    private readonly expired: (connection: PoolConnection) => boolean,
  ) {}

  query(sql: string, parameters: unknown[]): StreamableQuery;
  query(sql: string, parameters: unknown[], callback: (error: unknown, result: MysqlQueryResult) => void): void;
  query(sql: string, parameters: unknown[], callback?: (error: unknown, result: MysqlQueryResult) => void): StreamableQuery | void {
    // Kysely streams without a callback, through mysql2's query object as it is.
    if (callback === undefined) return this.connection.query(sql, parameters) as unknown as StreamableQuery;
    this.connection.query(sql, parameters, (error, result) => {
      if (error && connectionFailureReason(error) !== undefined) this.#broken = true;
      callback(error, result as MysqlQueryResult);
    });
  }

  release(): void {
    if (this.#broken || this.expired(this.connection)) this.connection.destroy();
    else this.connection.release();
  }
}
