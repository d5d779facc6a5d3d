import { sql } from 'kysely';
import type { Driver } from '../connection-spec.js';
import { pingDatabase, type SqlDatabase } from '../sql-database.js';
import { migrateArgosyncSyncSchema, migrateSyncSchema, type SyncTableNames } from '../migrations/sync-migrations.js';
import { acquireFunctionName, acquireFunctionSql } from './acquire-function.js';
import { handOffFunctionName, handOffFunctionSql } from './hand-off-function.js';
import { ControllerRows } from './controller-rows.js';
import { LimitRows } from './limit-rows.js';
import { LockRows, type ReleaseRow } from './lock-rows.js';
import { FunctionCall, syncSchema, type SyncSchema, type SyncTransaction } from './sync-schema.js';
import { TableVacuum } from './table-vacuum.js';

/** The state of one lock as an acquisition found it, after queueing the key and before any grant. */
export interface LockState {
  readonly alreadyHeld: boolean;
  readonly holders: number;
  /** Holder keys, sorted; read only where the key waits. */
  readonly holderKeys?: readonly string[];
  /** This controller's key of the same workflow is at the front of the live queue. */
  readonly frontIsOurs: boolean;
  /** The fencing token when the acquisition granted this lock, or of the key's hold when it already held it. */
  readonly token?: number;
  /** The limit the call read from the lock's `sync_limit` row (null: no row, or no value), where it was asked to. */
  readonly limitRead?: number | null;
}

/** One acquisition decision's input, for the server-side call. */
export interface AcquisitionRequest {
  readonly controller: string;
  readonly holderKey: string;
  readonly priority: number;
  readonly creationTime: number;
  readonly now: Date;
  readonly liveAfter: Date;
  /** Row names, sorted (guards are always taken in one order). */
  readonly lockKeys: readonly string[];
  /** Limits by position; null when missing (the lock then admits nobody). */
  readonly limits: readonly (number | null)[];
  /** By position, the `sync_limit` row whose value replaces the limit, read in the call; null for none. */
  readonly limitRows: readonly (string | null)[];
  readonly mayGrant: boolean;
}

/** What the acquisition function returns per lock. */
interface AcquisitionRow {
  already_held: boolean;
  holder_count: number;
  holder_keys: string | null;
  front_is_ours: boolean;
  token: string | number | null;
  limit_value: number | null;
}

/** Engines that run the acquisition as one server-side call; MySQL runs the guarded transaction statement by statement. */
const SERVER_SIDE_ACQUISITION: Record<Driver, boolean> = { postgresql: true, pglite: true, mysql: false };

/**
 * The owner of every statement on the sync tables (SPEC §4): limits, heartbeats, queue and hold rows, guard
 * rows, fencing. Controllers and the API server reach the tables only through it.
 */
export class SyncStore {
  readonly #schema: SyncSchema;
  /** Named after the table names, which never change: computed once. */
  readonly #acquire: FunctionCall<AcquisitionRow>;
  readonly #release: FunctionCall<ReleaseRow>;
  readonly #names: SyncTableNames;
  readonly limits: LimitRows;
  readonly controllers: ControllerRows;
  /** Removes the dead rows the sync tables' churn leaves (PostgreSQL, PGlite). */
  readonly vacuum: TableVacuum;
  readonly #locks = new Map<string, LockRows>();

  constructor(database: SqlDatabase, names: SyncTableNames) {
    this.#schema = syncSchema(database, names);
    this.#acquire = new FunctionCall(this.#schema, acquireFunctionName(this.#schema.tables), ['already_held', 'holder_count', 'holder_keys', 'front_is_ours', 'token', 'limit_value'], 10);
    this.#release = new FunctionCall(this.#schema, handOffFunctionName(this.#schema.tables), ['released', 'handed_to', 'token'], 10);
    this.#names = names;
    this.limits = new LimitRows(this.#schema);
    this.controllers = new ControllerRows(this.#schema);
    this.vacuum = new TableVacuum(this.#schema);
  }

  /** e.g. `postgresql at 127.0.0.1:5432/test`. */
  get description(): string {
    return this.#schema.database.description;
  }

  /** The rows of one lock, by its row name (`sem/<ns>/<key>`, `mtx/<ns>/<name>`). */
  lock(key: string): LockRows {
    let rows = this.#locks.get(key);
    if (!rows) this.#locks.set(key, (rows = new LockRows(this.#schema, key, this.#release)));
    return rows;
  }

  /** Argo's sync schema (unless skipped: an operator migrates) and argosync's additions beside it. */
  async migrate(skipArgoSchema: boolean): Promise<void> {
    const { database } = this.#schema;
    if (!skipArgoSchema) await migrateSyncSchema(database, this.#names);
    await migrateArgosyncSyncSchema(database);
    if (this.acquiresServerSide) {
      // Replacing a function another controller is calling is safe; two replacing it at once are not.
      await database.engine.withMigrationLock(database.db, 'argosync-sync-acquire', async () => {
        await sql.raw(acquireFunctionSql(this.#schema.tables)).execute(database.db);
        await sql.raw(handOffFunctionSql(this.#schema.tables)).execute(database.db);
      });
    }
  }

  /** Whether `acquireServerSide` serves this engine (one round trip per decision). */
  get acquiresServerSide(): boolean {
    return SERVER_SIDE_ACQUISITION[this.#schema.engine.driver];
  }

  /**
   * One acquisition decision in one statement (see acquireFunctionSql): guards, queue rows, checks, grants.
   * Fails with a unique violation when another controller keeps a guard row committed (an Argo controller).
   */
  async acquireServerSide(request: AcquisitionRequest): Promise<LockState[]> {
    const rows = await this.#acquire.run(
      request.controller,
      request.holderKey,
      request.priority,
      new Date(request.creationTime),
      request.now,
      request.liveAfter,
      request.lockKeys,
      request.limits,
      request.limitRows,
      request.mayGrant,
    );
    return rows.map((row, index) => ({
      alreadyHeld: row.already_held,
      holders: Number(row.holder_count),
      ...(row.holder_keys === null ? {} : { holderKeys: JSON.parse(row.holder_keys) as string[] }),
      frontIsOurs: row.front_is_ours,
      ...(row.token === null ? {} : { token: Number(row.token) }),
      ...(request.limitRows[index] === null ? {} : { limitRead: row.limit_value === null ? null : Number(row.limit_value) }),
    }));
  }

  /**
   * One attempt of an acquisition: a SERIALIZABLE transaction that first inserts the `sync_lock` guard row of
   * every key (Argo's cross-controller guard), runs `fn`, and deletes the guard rows again before committing.
   * Another acquirer of the same lock waits on the uncommitted row instead of polling for it, a crash can never
   * leave one behind, and two commits are saved. `onGuard` hears which key is being guarded, so a unique
   * violation can be told apart as "another controller keeps this guard".
   */
  acquisition<T>(keys: readonly string[], controller: string, now: Date, onGuard: (key: string | undefined) => void, fn: (tx: SyncTransaction) => Promise<T>): Promise<T> {
    const { db, tables } = this.#schema;
    return db
      .transaction()
      .setIsolationLevel('serializable')
      .execute(async (tx) => {
        for (const key of keys) {
          onGuard(key);
          await tx.insertInto(tables.lock).values({ name: key, controller, time: now }).execute();
        }
        onGuard(undefined);
        const result = await fn(tx);
        await tx.deleteFrom(tables.lock).where('name', 'in', keys).where('controller', '=', controller).execute();
        return result;
      });
  }

  /** A serialization failure or deadlock: the transaction may be retried as a whole. */
  isContention(error: unknown): boolean {
    return this.#schema.engine.isRetryableTransactionError(error);
  }

  isUniqueViolation(error: unknown): boolean {
    return this.#schema.engine.isUniqueViolation(error);
  }

  /** Sends `payload` on `channel` where the engine has notifications. */
  async notify(channel: string, payload: string): Promise<void> {
    await this.#schema.engine.notifications?.notify(channel, payload);
  }

  /** Listens on `channel`; undefined where the engine has no notifications (MySQL: callers poll). */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> | undefined {
    return this.#schema.engine.notifications?.listen(channel, onPayload);
  }

  /** Whether the database answers. */
  async ping(): Promise<void> {
    await pingDatabase(this.#schema.database);
  }
}
