import { createHash } from 'node:crypto';
import type { Kysely, QueryExecutorProvider } from 'kysely';
import type { Driver } from '../connection-spec.js';

/** Cross-process notifications, where the engine has them (PostgreSQL and PGlite: LISTEN/NOTIFY). */
export interface Notifications {
  /** Calls `onPayload` for each notification on `channel`; resolves once listening; the result stops it. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Sends a notification; given a transaction, it is delivered when that transaction commits. */
  notify(channel: string, payload: string, within?: QueryExecutorProvider): Promise<void>;
  /** The name the database knows `channel` by, for SQL that notifies by itself (listen and notify apply it). */
  channelName(channel: string): string;
}

/**
 * Channels are per database, not per schema: stores in two schemas of one database would hear each other's
 * changes (and their names). A schema's channels carry a digest of it, which keeps them within 63 bytes.
 */
export function schemaChannelName(schema: string | undefined): (channel: string) => string {
  if (schema === undefined) return (channel) => channel;
  const digest = createHash('sha256').update(schema).digest('hex').slice(0, 12);
  return (channel) => `${channel}_${digest}`;
}

/**
 * What differs between engines, in one object per engine (STYLE item 4): nobody else asks "is this MySQL?".
 */
export interface EngineTraits {
  readonly driver: Driver;
  /** A serialization failure or deadlock: the transaction may be retried as a whole. */
  isRetryableTransactionError(error: unknown): boolean;
  /** An insert hit an existing primary or unique key. */
  isUniqueViolation(error: unknown): boolean;
  /** Runs `fn` while holding a lock that other processes migrating the same database wait for. */
  withMigrationLock<T>(db: Kysely<unknown>, name: string, fn: () => Promise<T>): Promise<T>;
  /** Undefined on MySQL, which has no LISTEN/NOTIFY: callers poll instead. */
  readonly notifications: Notifications | undefined;
  /** Column type for JSON documents in argosync's own tables. */
  readonly jsonColumnType: 'json' | 'jsonb';
  /** Whether `CREATE INDEX IF NOT EXISTS` is understood. */
  readonly supportsIndexIfNotExists: boolean;
  /** How an insert turns into an update of an existing key: `ON CONFLICT ... RETURNING` or `ON DUPLICATE KEY`. */
  readonly upsert: 'onConflict' | 'onDuplicateKey';
  /** Asks that a hot statement (its SQL text) be parsed and planned once per connection, where the engine can. */
  keepPrepared(sqlText: string): void;
}

/** Argo's fallback test for retryable errors, on the message (it also covers driver-wrapped errors). */
export function messageLooksRetryable(error: unknown): boolean {
  const message = error instanceof Error ? error.message.toLowerCase() : String(error).toLowerCase();
  return ['serialization', 'deadlock', 'dependencies', 'rollback', 'could not serialize'].some((word) => message.includes(word));
}

export function errorCode(error: unknown): string | number | undefined {
  return (error as { code?: string | number; errno?: number } | undefined)?.code;
}
