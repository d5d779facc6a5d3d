import { randomUUID } from 'node:crypto';
import type { SqlDatabase } from './sql-database.js';

/** Notification payload: the event, tagged with the writing process so that it does not hear itself twice. */
interface Announcement<E> {
  readonly origin: string;
  readonly event: E;
}

/**
 * A store's change feed: listeners in this process hear a change at once; other processes on the same
 * PostgreSQL hear it through LISTEN/NOTIFY on `channel` (engines without notifications rely on resyncs).
 */
export class ChangeChannel<E> {
  readonly #database: SqlDatabase;
  readonly #channel: string;
  readonly #origin = randomUUID();
  readonly #listeners = new Set<(event: E) => void>();
  #stopListening: Promise<() => Promise<void>> | undefined;

  constructor(database: SqlDatabase, channel: string) {
    this.#database = database;
    this.#channel = channel;
  }

  /** Resolves once other processes' changes are heard too; the result stops listening. */
  async subscribe(listener: (event: E) => void): Promise<() => void> {
    this.#listeners.add(listener);
    const notifications = this.#database.engine.notifications;
    if (notifications) {
      this.#stopListening ??= notifications.listen(this.#channel, (payload) => {
        const announcement = JSON.parse(payload) as Announcement<E>;
        if (announcement.origin !== this.#origin) this.#deliver(announcement.event);
      });
      await this.#stopListening;
    }
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async announce(event: E): Promise<void> {
    this.#deliver(event);
    const announcement: Announcement<E> = { origin: this.#origin, event };
    await this.#database.engine.notifications?.notify(this.#channel, JSON.stringify(announcement));
  }

  async close(): Promise<void> {
    const stop = this.#stopListening;
    this.#stopListening = undefined;
    this.#listeners.clear();
    if (stop) await (await stop)();
  }

  #deliver(event: E): void {
    for (const listener of this.#listeners) listener(event);
  }
}
