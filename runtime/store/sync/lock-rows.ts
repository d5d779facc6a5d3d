import { sql, type Kysely } from 'kysely';
import { liveControllers, type FunctionCall, type SyncSchema, type SyncTables, type SyncTransaction } from './sync-schema.js';

/** A queue row (`held=false`) as the controller sees it. */
export interface QueueRow {
  readonly holderKey: string;
  readonly controller: string;
  readonly priority: number;
  /** Workflow creation time, ms since the epoch. */
  readonly creationTime: number;
}

/** A hold (`held=true`) with argosync's fencing record; holds granted by Argo controllers have token 0. */
export interface HoldRow {
  readonly holderKey: string;
  readonly controller: string;
  readonly token: number;
  /** Grant time, ms since the epoch (the row's time for holds without a fencing record). */
  readonly since: number;
}

/**
 * Who may be handed the slot a release frees: this controller's waiters that need nothing but this lock; and
 * the lock's limit, fixed (a mutex) or the `sync_limit` row the release reads (a semaphore).
 */
export interface HandOff {
  readonly limit: { readonly fixed: number } | { readonly row: string };
  readonly eligible: readonly string[];
  readonly now: Date;
  readonly liveAfter: Date;
}

/** What the release function returns. */
export interface ReleaseRow {
  released: number;
  handed_to: string | null;
  token: string | number | null;
}

/** What a release did: how many holds it deleted, and the waiter it granted the slot to, if any. */
export interface Release {
  readonly released: number;
  readonly handedOff?: { readonly holderKey: string; readonly token: number };
}

/**
 * The `sync_state` rows of one lock (`sem/<ns>/<key>` or `mtx/<ns>/<name>`) in Argo's protocol
 * (argo-reference §4.5, §5), and argosync's fencing token and grant record beside them.
 */
export class LockRows {
  constructor(
    private readonly schema: SyncSchema,
    /** The lock's row name. */
    readonly key: string,
    /** The release function (handOffFunctionSql), one per store. */
    private readonly releaseCall: FunctionCall<ReleaseRow>,
  ) {}

  /** Argo's addToQueue: inserts the queue row unless this controller has a row for the key; in `db` when given a transaction. */
  async enqueue(controller: string, waiter: Omit<QueueRow, 'controller'>, db: Kysely<SyncTables> = this.schema.db): Promise<void> {
    const { state } = this.schema.tables;
    const existing = await db.selectFrom(state).select('held').where('name', '=', this.key).where('workflowkey', '=', waiter.holderKey).where('controller', '=', controller).executeTakeFirst();
    if (existing) return;
    await db
      .insertInto(state)
      .values({ name: this.key, workflowkey: waiter.holderKey, controller, held: false, priority: waiter.priority, time: new Date(waiter.creationTime) })
      .execute();
  }

  /** Argo's removeFromQueue: deletes the key's queue rows of every controller. */
  async dequeue(holderKey: string): Promise<void> {
    await this.schema.db.deleteFrom(this.schema.tables.state).where('name', '=', this.key).where('workflowkey', '=', holderKey).where('held', '=', false).execute();
  }

  /**
   * Deletes this controller's hold of the key and its grant record. Where the engine runs it server-side
   * (PostgreSQL, PGlite) this is one call that, given `handOff`, grants the freed slot to one of its eligible
   * waiters when that one is next in the live queue (see handOffFunctionSql); without a hand-off, a release
   * that deleted a hold sends `notice` on commit. The commit is durable: a release undone by a database crash
   * would bring back a hold that this controller no longer knows of.
   */
  async release(controller: string, holderKey: string, notice: { readonly channel: string; readonly payload: string }, handOff?: HandOff): Promise<Release> {
    const { db, tables, engine } = this.schema;
    if (engine.notifications) {
      const rows = await this.releaseCall.run(
        controller,
        holderKey,
        this.key,
        handOff && 'fixed' in handOff.limit ? handOff.limit.fixed : null,
        handOff && 'row' in handOff.limit ? handOff.limit.row : null,
        handOff?.eligible ?? [],
        handOff?.now ?? new Date(),
        handOff?.liveAfter ?? new Date(),
        engine.notifications.channelName(notice.channel),
        notice.payload,
      );
      const row = rows[0]!;
      return { released: Number(row.released), ...(row.handed_to === null ? {} : { handedOff: { holderKey: row.handed_to, token: Number(row.token) } }) };
    }
    return db.transaction().execute(async (tx) => {
      const deleted = await tx
        .deleteFrom(tables.state)
        .where('name', '=', this.key)
        .where('workflowkey', '=', holderKey)
        .where('controller', '=', controller)
        .where('held', '=', true)
        .executeTakeFirst();
      await tx.deleteFrom('argosync_sync_grant').where('name', '=', this.key).where('workflowkey', '=', holderKey).where('controller', '=', controller).execute();
      return { released: Number(deleted.numDeletedRows) };
    });
  }

  /** Every holder key and the front of the live queue, in one round trip (it runs while the guard is held). */
  async holdersAndFront(tx: SyncTransaction, liveCutoff: Date): Promise<{ holders: string[]; front: { holderKey: string; controller: string } | undefined }> {
    const state = sql.table(this.schema.tables.state);
    const { rows } = await sql<{ workflowkey: string; controller: string; held: boolean | number }>`
      (select workflowkey, controller, held from ${state} where name = ${this.key} and held = ${true})
      union all
      (select workflowkey, controller, held from ${state} where name = ${this.key} and held = ${false}
        and controller in (select controller from ${sql.table(this.schema.tables.controller)} where time > ${liveCutoff})
        order by priority desc, time asc, workflowkey asc limit 1)`.execute(tx);
    const front = rows.find((row) => Number(row.held) !== 1);
    return {
      holders: rows.filter((row) => Number(row.held) === 1).map((row) => row.workflowkey),
      front: front && { holderKey: front.workflowkey, controller: front.controller },
    };
  }

  /** Makes the key a holder for `controller` (flipping its queue row), bumps the fencing counter and records the grant; returns the token. */
  async grant(tx: SyncTransaction, controller: string, holderKey: string, now: Date): Promise<number> {
    const { state } = this.schema.tables;
    const flipped = await tx.updateTable(state).set({ held: true }).where('name', '=', this.key).where('workflowkey', '=', holderKey).where('controller', '=', controller).executeTakeFirst();
    if (Number(flipped.numUpdatedRows) === 0) {
      await tx.insertInto(state).values({ name: this.key, workflowkey: holderKey, controller, held: true, priority: 0, time: now }).execute();
    }
    const token = await this.#nextToken(tx);
    // A grant row can outlive its hold when an operator deletes sync_state rows by hand (Argo's documented fix).
    const grant = tx.insertInto('argosync_sync_grant').values({ name: this.key, workflowkey: holderKey, controller, token, granted_at: now });
    const renewed = { token, granted_at: now };
    await (this.schema.engine.upsert === 'onConflict' ? grant.onConflict((conflict) => conflict.columns(['name', 'workflowkey', 'controller']).doUpdateSet(renewed)) : grant.onDuplicateKeyUpdate(renewed)).execute();
    return token;
  }

  /** The fencing token of `controller`'s grant of the key, if it has one (holds granted by Argo controllers have none). */
  async grantToken(tx: SyncTransaction, controller: string, holderKey: string): Promise<number | undefined> {
    const row = await tx.selectFrom('argosync_sync_grant').select('token').where('name', '=', this.key).where('workflowkey', '=', holderKey).where('controller', '=', controller).executeTakeFirst();
    return row === undefined ? undefined : Number(row.token);
  }

  /** Whether any controller holds the key (Argo's reacquire check at startup). */
  async isHeld(holderKey: string): Promise<boolean> {
    const row = await this.schema.db.selectFrom(this.schema.tables.state).select('controller').where('name', '=', this.key).where('workflowkey', '=', holderKey).where('held', '=', true).executeTakeFirst();
    return row !== undefined;
  }

  /** Holder keys `controller` holds on this lock. */
  async heldBy(controller: string): Promise<string[]> {
    const rows = await this.schema.db.selectFrom(this.schema.tables.state).select('workflowkey').where('name', '=', this.key).where('controller', '=', controller).where('held', '=', true).execute();
    return rows.map((row) => row.workflowkey);
  }

  /**
   * The first `limit` queue rows of live controllers in SPEC §5 order, each with the lock's current number of
   * holders: what a wake-up needs, in one small read (no queue row: nobody to wake).
   */
  async frontOfQueue(liveCutoff: Date, limit: number): Promise<{ holders: number; waiters: Pick<QueueRow, 'holderKey' | 'controller'>[] }> {
    const { db, tables } = this.schema;
    const state = sql.table(tables.state);
    const { rows } = await sql<{ workflowkey: string; controller: string; holders: number | string }>`
      select workflowkey, controller, (select count(*) from ${state} h where h.name = ${this.key} and h.held = ${true}) as holders from ${state}
        where name = ${this.key} and held = ${false} and controller in ${liveControllers(this.schema, db, liveCutoff)}
        order by priority desc, time asc, workflowkey asc limit ${limit}`.execute(db);
    return { holders: Number(rows[0]?.holders ?? 0), waiters: rows.map((row) => ({ holderKey: row.workflowkey, controller: row.controller })) };
  }

  /** In one read: the holders with their grants, then up to `waiterLimit` queue rows of live controllers in SPEC §5 order. */
  async holdersAndWaiters(liveCutoff: Date, waiterLimit?: number): Promise<{ holders: HoldRow[]; waiters: QueueRow[] }> {
    const { db } = this.schema;
    const state = sql.table(this.schema.tables.state);
    const { rows } = await sql<{ workflowkey: string; controller: string; held: boolean | number; priority: number; time: Date; token: string | number | null; granted_at: Date | null }>`
      (select s.workflowkey, s.controller, s.held, s.priority, s.time, g.token, g.granted_at from ${state} s
        left join argosync_sync_grant g on g.name = s.name and g.workflowkey = s.workflowkey and g.controller = s.controller
        where s.name = ${this.key} and s.held = ${true})
      union all
      (select workflowkey, controller, held, priority, time, null, null from ${state}
        where name = ${this.key} and held = ${false} and controller in ${liveControllers(this.schema, db, liveCutoff)}
        order by priority desc, time asc, workflowkey asc ${waiterLimit === undefined ? sql`` : sql`limit ${waiterLimit}`})
      order by held desc, token asc, priority desc, time asc, workflowkey asc`.execute(db);
    return {
      holders: rows
        .filter((row) => Boolean(row.held))
        .map((row) => ({ holderKey: row.workflowkey, controller: row.controller, token: row.token === null ? 0 : Number(row.token), since: (row.granted_at ?? row.time).getTime() })),
      waiters: rows.filter((row) => !row.held).map((row) => ({ holderKey: row.workflowkey, controller: row.controller, priority: Number(row.priority), creationTime: row.time.getTime() })),
    };
  }

  /** Bumps the lock's fencing counter (starting at 1) and returns it, in one statement. */
  async #nextToken(tx: SyncTransaction): Promise<number> {
    const first = tx.insertInto('argosync_sync_fence').values({ name: this.key, token: 1 });
    if (this.schema.engine.upsert === 'onConflict') {
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
