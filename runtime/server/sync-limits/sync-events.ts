/** A change the UI should show: a limit was written, or a lock's holders or waiters changed. */
export interface SyncEvent {
  readonly namespace: string;
  /** Lock name (`ns/ConfigMap/cm/key`, `ns/Database/key`...) or the limit written. */
  readonly lock: string;
  readonly reason: 'limit' | 'holders';
}

/** Fan-out of sync events to the server-sent event streams (`GET /api/v1/sync-events`). */
export class SyncEvents {
  readonly #listeners = new Set<{ namespace: string | undefined; listener: (event: SyncEvent) => void }>();

  /** Hears the events of one namespace, or of all when undefined; the result unsubscribes. */
  subscribe(namespace: string | undefined, listener: (event: SyncEvent) => void): () => void {
    const entry = { namespace, listener };
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  publish(event: SyncEvent): void {
    for (const { namespace, listener } of this.#listeners) if (namespace === undefined || namespace === event.namespace) listener(event);
  }
}
