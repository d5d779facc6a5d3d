import type { ConfigDocument } from './config-schema.js';
import type { RuntimeConfig } from './runtime-config.js';

/**
 * Where the runtime configuration lives (SPEC §3): a YAML file (`file-config-source.ts`) or, on
 * Kubernetes, the ConfigMap `argosync-config`. The config API writes through the same source.
 */
export interface ConfigSource {
  /** Names the source in messages, e.g. the file path. */
  readonly description: string;
  /** The last good configuration; undefined until a load, save or reload succeeded. */
  readonly current: RuntimeConfig | undefined;
  /** The document behind `current`, `${ENV}` references unexpanded: the base for read-modify-save. */
  readonly currentDocument: ConfigDocument | undefined;
  /**
   * Reads and validates the configuration; an absent one is the empty document (all defaults).
   * Rejects with InvalidArgumentError naming the source and every bad key; `current` is kept then.
   */
  load(): Promise<RuntimeConfig>;
  /** Validates a document as `save` would, without storing it. */
  validate(document: ConfigDocument): RuntimeConfig;
  /**
   * Validates `document` and, only if valid, replaces the stored one atomically (a reader sees the old
   * or the new document, never a mix). Watchers get the new configuration once.
   */
  save(document: ConfigDocument): Promise<RuntimeConfig>;
  /**
   * Reports every later change: `onChange` with each new valid configuration (unchanged content is not
   * reported), `onRejected` with the error of an invalid one while `current` keeps the last good.
   * Resolves once watching; the returned function stops it.
   */
  watch(onChange: (config: RuntimeConfig) => void, onRejected: (error: Error) => void): Promise<() => void>;
}

interface Listener {
  readonly onChange: (config: RuntimeConfig) => void;
  readonly onRejected: (error: Error) => void;
}

/**
 * The listeners of a source. A listener that throws is a bug: the others still hear the event,
 * and its error is rethrown outside the source (an uncaught exception) instead of being taken
 * for a rejected configuration.
 */
export class ConfigListeners {
  readonly #listeners = new Set<Listener>();

  get size(): number {
    return this.#listeners.size;
  }

  /** Adds a listener; the returned function removes it. */
  add(onChange: Listener['onChange'], onRejected: Listener['onRejected']): () => void {
    const listener = { onChange, onRejected };
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  changed(config: RuntimeConfig): void {
    for (const listener of [...this.#listeners]) this.#call(() => listener.onChange(config));
  }

  rejected(error: Error): void {
    for (const listener of [...this.#listeners]) this.#call(() => listener.onRejected(error));
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
