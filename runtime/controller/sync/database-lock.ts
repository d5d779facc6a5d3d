import { sql } from 'kysely';
import type { DatabaseSync, SyncTransaction } from './database-sync.js';
import { isSameWorkflowNodeKeys } from './holder-key.js';
import { LimitTracker, type LimitSource } from './limit-source.js';
import type { Holder, Lock, LockCheck, LockKind, LockSnapshot, Waiter } from './lock.js';
import { databaseWaitingMessage, missingLimitMessage } from './lock-messages.js';
import type { SyncDb } from './sync-tables.js';

/**
 * A semaphore or mutex in the shared sync database, speaking Argo's table protocol (argo-reference §4.5, §5):
 * queue rows `held=false`, holds `held=true`, the queue ordered over live controllers only. Grants also bump
 * argosync's fencing counter for the lock and record the token.
 */
export class DatabaseLock implements Lock<SyncTransaction> {
  readonly storage = 'database';
  readonly #limit: LimitTracker;

  constructor(
    readonly name: string,
    readonly kind: LockKind,
    /** `sem/<ns>/<key>` or `mtx/<ns>/<name>`. */
    readonly databaseKey: string,
    limits: LimitSource,
    private readonly sync: DatabaseSync,
  ) {
    this.#limit = new LimitTracker(limits);
  }

  /** Inserts the queue row unless one exists; inside the acquisition transaction when given one. */
  async enqueue(waiter: Waiter, tx?: SyncTransaction): Promise<void> {
    const { tables, controllerName } = this.sync;
    const db = tx ?? this.sync.db;
    const existing = await db
      .selectFrom(tables.state)
      .select('held')
      .where('name', '=', this.databaseKey)
      .where('workflowkey', '=', waiter.holderKey)
      .where('controller', '=', controllerName)
      .executeTakeFirst();
    if (existing) return;
    await db
      .insertInto(tables.state)
      .values({ name: this.databaseKey, workflowkey: waiter.holderKey, controller: controllerName, held: false, priority: waiter.priority, time: new Date(waiter.creationTime) })
      .execute();
  }

  async dequeue(holderKey: string): Promise<void> {
    const { tables } = this.sync;
    await this.sync.write((db) => db.deleteFrom(tables.state).where('name', '=', this.databaseKey).where('workflowkey', '=', holderKey).where('held', '=', false).execute());
  }

  readLimit(): Promise<number | string> {
    return this.#limit.read();
  }

  async check(holderKey: string, limit: number | string, tx: SyncTransaction): Promise<LockCheck> {
    const { holders, front } = await this.#holdersAndFront(tx);
    if (holders.includes(holderKey)) return { status: 'held' };
    if (typeof limit === 'string') return { status: 'waiting', message: missingLimitMessage(this.name, limit), missingLimit: limit };
    const waiting = { status: 'waiting', message: databaseWaitingMessage(this.name, this.databaseKey, holders.length, limit) } as const;
    if (holders.length >= limit) return waiting;
    if (!front || front.controller !== this.sync.controllerName || !isSameWorkflowNodeKeys(front.workflowkey, holderKey)) return waiting;
    return { status: 'acquirable' };
  }

  /** Every holder and the front of the live queue, in one round trip (it runs while the guard is held). */
  async #holdersAndFront(tx: SyncTransaction): Promise<{ holders: string[]; front: { workflowkey: string; controller: string } | undefined }> {
    const { tables } = this.sync;
    const state = sql.table(tables.state);
    const rows = await sql<{ workflowkey: string; controller: string; held: boolean | number }>`
      (select workflowkey, controller, held from ${state} where name = ${this.databaseKey} and held = ${true})
      union all
      (select workflowkey, controller, held from ${state} where name = ${this.databaseKey} and held = ${false}
        and controller in (select controller from ${sql.table(tables.controller)} where time > ${this.sync.liveCutoff()})
        order by priority desc, time asc, workflowkey asc limit 1)`.execute(tx);
    const holders = rows.rows.filter((row) => Number(row.held) === 1).map((row) => row.workflowkey);
    return { holders, front: rows.rows.find((row) => Number(row.held) !== 1) };
  }

  async grant(holderKey: string, tx: SyncTransaction): Promise<Holder> {
    const { tables, controllerName } = this.sync;
    const flipped = await tx
      .updateTable(tables.state)
      .set({ held: true })
      .where('name', '=', this.databaseKey)
      .where('workflowkey', '=', holderKey)
      .where('controller', '=', controllerName)
      .executeTakeFirst();
    if (Number(flipped.numUpdatedRows) === 0) {
      await tx.insertInto(tables.state).values({ name: this.databaseKey, workflowkey: holderKey, controller: controllerName, held: true, priority: 0, time: this.sync.now() }).execute();
    }
    const token = await this.#nextToken(tx);
    const since = this.sync.now();
    // A grant row can outlive its hold when an operator deletes sync_state rows by hand (Argo's documented fix).
    const grant = tx.insertInto('argosync_sync_grant').values({ name: this.databaseKey, workflowkey: holderKey, controller: controllerName, token, granted_at: since });
    const renewed = { token, granted_at: since };
    await (this.sync.upsert === 'onConflict' ? grant.onConflict((conflict) => conflict.columns(['name', 'workflowkey', 'controller']).doUpdateSet(renewed)) : grant.onDuplicateKeyUpdate(renewed)).execute();
    return { holderKey, token, since: since.getTime(), controller: controllerName };
  }

  async release(holderKey: string): Promise<boolean> {
    const { tables, controllerName } = this.sync;
    const deleted = await this.sync.releasing(this.databaseKey, async (tx) => {
      const rows = await tx
        .deleteFrom(tables.state)
        .where('name', '=', this.databaseKey)
        .where('workflowkey', '=', holderKey)
        .where('controller', '=', controllerName)
        .where('held', '=', true)
        .executeTakeFirst();
      await tx.deleteFrom('argosync_sync_grant').where('name', '=', this.databaseKey).where('workflowkey', '=', holderKey).where('controller', '=', controllerName).execute();
      return Number(rows.numDeletedRows);
    });
    return deleted > 0;
  }

  /** At startup, Argo only verifies that the hold is still recorded (by any controller). */
  async reacquire(holderKey: string): Promise<void> {
    const { db, tables } = this.sync;
    let row;
    try {
      row = await db.selectFrom(tables.state).select('controller').where('name', '=', this.databaseKey).where('workflowkey', '=', holderKey).where('held', '=', true).executeTakeFirst();
    } catch (error) {
      throw new Error(`could not verify hold on ${this.databaseKey} for ${holderKey}: ${(error as Error).message}`);
    }
    if (!row) throw new Error(`hold on ${this.databaseKey} for ${holderKey} is not present in the database`);
  }

  /** This controller's waiters among the first `limit − holders` live queue entries (Argo's notifyWaiters). */
  async admissible(): Promise<string[]> {
    const limit = await this.#limit.read();
    if (typeof limit === 'string') return [];
    // No more than `limit` waiters can be admitted, so a long queue is not read whole.
    const { holders, waiters } = await this.#holdersAndWaiters(limit);
    return waiters
      .slice(0, Math.max(0, limit - holders.length))
      .filter((waiter) => waiter.controller === this.sync.controllerName)
      .map((waiter) => waiter.holderKey);
  }

  async snapshot(): Promise<LockSnapshot> {
    const limit = await this.#limit.read().catch(() => this.#limit.last);
    return { name: this.name, kind: this.kind, storage: this.storage, limit: typeof limit === 'number' ? limit : undefined, ...(await this.#holdersAndWaiters()) };
  }

  /** In one read: the holders with their grants, then up to `waiterLimit` queue rows of live controllers in SPEC §5 order. */
  async #holdersAndWaiters(waiterLimit?: number): Promise<Pick<LockSnapshot, 'holders' | 'waiters'>> {
    const { db, tables } = this.sync;
    const state = sql.table(tables.state);
    const { rows } = await sql<{ workflowkey: string; controller: string; held: boolean | number; priority: number; time: Date; token: string | number | null; granted_at: Date | null }>`
      (select s.workflowkey, s.controller, s.held, s.priority, s.time, g.token, g.granted_at from ${state} s
        left join argosync_sync_grant g on g.name = s.name and g.workflowkey = s.workflowkey and g.controller = s.controller
        where s.name = ${this.databaseKey} and s.held = ${true})
      union all
      (select workflowkey, controller, held, priority, time, null, null from ${state}
        where name = ${this.databaseKey} and held = ${false} and controller in ${this.#liveControllers(db)}
        order by priority desc, time asc, workflowkey asc ${waiterLimit === undefined ? sql`` : sql`limit ${waiterLimit}`})
      order by held desc, token asc, priority desc, time asc, workflowkey asc`.execute(db);
    return {
      holders: rows
        .filter((row) => Boolean(row.held))
        .map((row) => ({
          holderKey: row.workflowkey,
          controller: row.controller,
          // Holds granted by Argo controllers have no fencing record.
          token: row.token === null ? 0 : Number(row.token),
          since: (row.granted_at ?? row.time).getTime(),
        })),
      waiters: rows.filter((row) => !row.held).map((row) => ({ holderKey: row.workflowkey, controller: row.controller, priority: Number(row.priority), creationTime: row.time.getTime() })),
    };
  }

  #liveControllers(db: SyncDb) {
    return db.selectFrom(this.sync.tables.controller).select('controller').where('time', '>', this.sync.liveCutoff());
  }

  /** Bumps the lock's fencing counter (starting at 1) and returns it, in one statement. */
  async #nextToken(tx: SyncTransaction): Promise<number> {
    const first = tx.insertInto('argosync_sync_fence').values({ name: this.databaseKey, token: 1 });
    if (this.sync.upsert === 'onConflict') {
      const row = await first
        .onConflict((conflict) => conflict.column('name').doUpdateSet((eb) => ({ token: eb('argosync_sync_fence.token', '+', 1) })))
        .returning('token')
        .executeTakeFirstOrThrow();
      return Number(row.token);
    }
    // MySQL has no RETURNING: LAST_INSERT_ID(expr) hands the bumped value back as the statement's insert id,
    // which is 0 when the row was new (the table has no AUTO_INCREMENT column).
    const result = await first.onDuplicateKeyUpdate({ token: sql<number>`last_insert_id(token + 1)` }).executeTakeFirstOrThrow();
    return Number(result.insertId ?? 0) || 1;
  }
}
