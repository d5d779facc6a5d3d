import { ConfigListeners, type ConfigSource } from './config-source.js';
import type { ConfigDocument } from './config-schema.js';
import { parseConfigYaml, stringifyConfigYaml } from './config-yaml.js';
import { parseRuntimeConfig, type ParseOptions, type RuntimeConfig } from './runtime-config.js';

interface Loaded {
  /** The stored text; null when nothing is stored. */
  readonly text: string | null;
  readonly document: ConfigDocument;
  readonly config: RuntimeConfig;
}

/**
 * A configuration kept as YAML text somewhere (a file, a ConfigMap key): loading, validating, saving and
 * hot reload with the `ConfigSource` contract. Subclasses say how the text is read, written and watched.
 */
export abstract class TextConfigSource implements ConfigSource {
  abstract readonly description: string;
  readonly #parseOptions: Omit<ParseOptions, 'source'>;
  readonly #listeners = new ConfigListeners();
  #loaded: Loaded | undefined;
  /** Text of the last rejected reload, so repeated events for one bad edit report it once. */
  #rejectedText: string | null | undefined;
  #stopWatching: (() => void) | undefined;
  /** Loads, saves and reloads run one at a time, so a slow reload never overwrites a newer save. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(parseOptions: Omit<ParseOptions, 'source'> = {}) {
    this.#parseOptions = parseOptions;
  }

  /** The stored text, or null when there is none (the empty configuration). */
  protected abstract readText(): Promise<string | null>;
  /** Replaces the stored text atomically. */
  protected abstract writeText(text: string): Promise<void>;
  /** Starts calling `changed` whenever the stored text may have changed; resolves once watching. */
  protected abstract startWatching(changed: () => void): Promise<() => void>;

  get current(): RuntimeConfig | undefined {
    return this.#loaded?.config;
  }

  get currentDocument(): ConfigDocument | undefined {
    return this.#loaded?.document;
  }

  validate(document: ConfigDocument): RuntimeConfig {
    return parseRuntimeConfig(document, { ...this.#parseOptions, source: this.description });
  }

  load(): Promise<RuntimeConfig> {
    return this.#serially(async () => {
      const loaded = this.#interpret(await this.readText());
      this.#accept(loaded);
      return loaded.config;
    });
  }

  save(document: ConfigDocument): Promise<RuntimeConfig> {
    return this.#serially(async () => {
      const config = this.validate(document);
      const text = stringifyConfigYaml(document);
      await this.writeText(text);
      this.#accept({ text, document, config });
      return config;
    });
  }

  async watch(onChange: (config: RuntimeConfig) => void, onRejected: (error: Error) => void): Promise<() => void> {
    const remove = this.#listeners.add(onChange, onRejected);
    if (this.#stopWatching === undefined) {
      this.#stopWatching = () => undefined; // claimed before the await, so two watch() calls start one watch
      this.#stopWatching = await this.startWatching(() => this.reloadSoon());
    }
    return () => {
      remove();
      if (this.#listeners.size === 0) {
        this.#stopWatching?.();
        this.#stopWatching = undefined;
      }
    };
  }

  /** Re-reads the stored text; subclasses may delay this call to let a burst of events settle. */
  protected reloadSoon(): void {
    void this.#serially(() => this.#reload());
  }

  /** Reports an error of the underlying watch to the listeners. */
  protected watchFailed(error: Error): void {
    this.#listeners.rejected(error);
  }

  async #reload(): Promise<void> {
    try {
      const text = await this.readText();
      if (this.#loaded !== undefined && text === this.#loaded.text) {
        this.#rejectedText = undefined; // a bad edit was reverted; making it again must be reported again
        return;
      }
      if (text === this.#rejectedText) return;
      let loaded: Loaded;
      try {
        loaded = this.#interpret(text);
      } catch (error) {
        this.#rejectedText = text;
        throw error;
      }
      this.#accept(loaded);
    } catch (error) {
      this.#listeners.rejected(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Makes `loaded` current and tells the listeners, unless the content is what they already have. */
  #accept(loaded: Loaded): void {
    const previous = this.#loaded;
    this.#loaded = loaded;
    this.#rejectedText = undefined;
    if (previous === undefined || previous.text !== loaded.text) this.#listeners.changed(loaded.config);
  }

  #interpret(text: string | null): Loaded {
    const parsed = text === null ? null : parseConfigYaml(text, this.description);
    const document = (parsed ?? {}) as ConfigDocument;
    return { text, document, config: this.validate(document) };
  }

  #serially<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}
