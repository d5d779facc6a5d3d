import { randomUUID } from 'node:crypto';
import type { Generated, Kysely } from 'kysely';
import type { SqlDatabase } from './sql-database.js';

/** Notification payload: the event, tagged with the writing process so that it does not hear itself twice. */
interface Announcement<E> {
  readonly origin: string;
  readonly event: E;
}

interface ChangeTables {
  argosync_changes: { id: Generated<number | string>; channel: string; payload: string; at: Date };
}

/** How often processes without LISTEN/NOTIFY look for other processes' announcements. */
export const CHANGE_POLL_MS = 250;
/** Announcements older than this are deleted; a listener that missed them relies on its periodic resync. */
const CHANGE_RETENTION_MS = 10 * 60_000;

/**
 * A store's change feed: listeners in this process hear a change at once; other processes on the same
 * database hear it through LISTEN/NOTIFY on `channel`, or, where the engine has none (MySQL), from rows of
 * `argosync_changes` that they poll every `pollMs`. Either way a periodic resync stays the safety net.
 */
export class ChangeChannel<E> {
  readonly #database: SqlDatabase;
  readonly #db: Kysely<ChangeTables>;
  readonly #channel: string;
  readonly #pollMs: number;
  readonly #origin = randomUUID();
  readonly #listeners = new Set<(event: E) => void>();
  #stopListening: Promise<() => Promise<void>> | undefined;

  constructor(database: SqlDatabase, channel: string, pollMs = CHANGE_POLL_MS) {
    this.#database = database;
    this.#db = database.db as Kysely<ChangeTables>;
    this.#channel = channel;
    this.#pollMs = pollMs;
  }

  /** Resolves once other processes' changes are heard too; the result stops listening. */
  async subscribe(listener: (event: E) => void): Promise<() => void> {
    this.#listeners.add(listener);
    const notifications = this.#database.engine.notifications;
    this.#stopListening ??= notifications ? notifications.listen(this.#channel, (payload) => this.#heard(payload)) : this.#poll();
    await this.#stopListening;
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async announce(event: E): Promise<void> {
    this.#deliver(event);
    const payload = JSON.stringify({ origin: this.#origin, event } satisfies Announcement<E>);
    const notifications = this.#database.engine.notifications;
    if (notifications) await notifications.notify(this.#channel, payload);
    else await this.#db.insertInto('argosync_changes').values({ channel: this.#channel, payload, at: new Date() }).execute();
  }

  async close(): Promise<void> {
    const stop = this.#stopListening;
    this.#stopListening = undefined;
    this.#listeners.clear();
    if (stop) await (await stop)();
  }

  #heard(payload: string): void {
    let announcement: Partial<Announcement<E>> | null;
    try {
      announcement = JSON.parse(payload) as Partial<Announcement<E>> | null;
    } catch {
      return; // Any user of the database may NOTIFY on the channel; the periodic resync stays the safety net.
    }
    if (typeof announcement?.origin === 'string' && announcement.origin !== this.#origin && announcement.event !== undefined) this.#deliver(announcement.event);
  }

  #deliver(event: E): void {
    for (const listener of this.#listeners) listener(event);
  }

  /** Reads announcements newer than the last one seen, every `pollMs`, and prunes old ones now and then. */
  async #poll(): Promise<() => Promise<void>> {
    const newest = await this.#db.selectFrom('argosync_changes').select((eb) => eb.fn.max('id').as('id')).where('channel', '=', this.#channel).executeTakeFirst();
    let seen = Number(newest?.id ?? 0);
    let lastPrune = 0;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const round = async () => {
      const rows = await this.#db.selectFrom('argosync_changes').select(['id', 'payload']).where('channel', '=', this.#channel).where('id', '>', seen).orderBy('id').execute();
      for (const row of rows) {
        seen = Number(row.id);
        this.#heard(row.payload);
      }
      if (Date.now() - lastPrune > CHANGE_RETENTION_MS / 10) {
        lastPrune = Date.now();
        await this.#db.deleteFrom('argosync_changes').where('at', '<', new Date(Date.now() - CHANGE_RETENTION_MS)).execute();
      }
    };
    // The next round is scheduled when one ends, so a slow database is never queried twice at once; a failed
    // round is simply repeated.
    const schedule = () => {
      if (stopped) return;
      timer = setTimeout(() => void round().catch(() => undefined).finally(schedule), this.#pollMs);
      timer.unref();
    };
    schedule();
    // A round under way is not awaited: in an outage it may be waiting to reconnect, and it fails harmlessly
    // once the database is closed.
    return async () => {
      stopped = true;
      clearTimeout(timer);
    };
  }
}
