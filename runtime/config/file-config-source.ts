import { randomUUID } from 'node:crypto';
import { watch as watchDirectory, type FSWatcher } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import { ConfigListeners, type ConfigSource } from './config-source.js';
import type { ConfigDocument } from './config-schema.js';
import { parseConfigYaml, stringifyConfigYaml } from './config-yaml.js';
import { parseRuntimeConfig, type ParseOptions, type RuntimeConfig } from './runtime-config.js';

export interface FileConfigSourceOptions {
  /** The YAML file (`--config`); it need not exist yet. */
  readonly path: string;
  /** Drives the reload debounce; default the system clock. */
  readonly clock?: Clock;
  /** Quiet time after the last file event before reloading; default 100 ms. */
  readonly debounceMs?: number;
  /** `env` for `${NAME}` references and the default `hostname`. */
  readonly parse?: Omit<ParseOptions, 'source'>;
}

interface Loaded {
  /** The file's text; null when the file does not exist. */
  readonly text: string | null;
  readonly document: ConfigDocument;
  readonly config: RuntimeConfig;
}

/** A configuration file, hot-reloaded: see `ConfigSource` for the contract. */
export class FileConfigSource implements ConfigSource {
  readonly #path: string;
  readonly #clock: Clock;
  readonly #debounceMs: number;
  readonly #parseOptions: ParseOptions;
  readonly #listeners = new ConfigListeners();
  #loaded: Loaded | undefined;
  /** Text of the last rejected reload, so repeated events for one bad edit report it once. */
  #rejectedText: string | null | undefined;
  #watcher: FSWatcher | undefined;
  #cancelReload: (() => void) | undefined;
  /** Loads, saves and reloads run one at a time, so a slow reload never overwrites a newer save. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: FileConfigSourceOptions) {
    this.#path = resolve(options.path);
    this.#clock = options.clock ?? systemClock;
    this.#debounceMs = options.debounceMs ?? 100;
    this.#parseOptions = { ...options.parse, source: this.#path };
  }

  get description(): string {
    return this.#path;
  }

  get current(): RuntimeConfig | undefined {
    return this.#loaded?.config;
  }

  get currentDocument(): ConfigDocument | undefined {
    return this.#loaded?.document;
  }

  load(): Promise<RuntimeConfig> {
    return this.#serially(async () => {
      const loaded = this.#interpret(await this.#readText());
      this.#accept(loaded);
      return loaded.config;
    });
  }

  validate(document: ConfigDocument): RuntimeConfig {
    return parseRuntimeConfig(document, this.#parseOptions);
  }

  save(document: ConfigDocument): Promise<RuntimeConfig> {
    return this.#serially(async () => {
      const config = parseRuntimeConfig(document, this.#parseOptions);
      const text = stringifyConfigYaml(document);
      await this.#writeAtomically(text);
      this.#accept({ text, document, config });
      return config;
    });
  }

  async watch(onChange: (config: RuntimeConfig) => void, onRejected: (error: Error) => void): Promise<() => void> {
    const remove = this.#listeners.add(onChange, onRejected);
    if (this.#watcher === undefined) {
      // The directory, not the file: editors and `save` replace the file by renaming over it,
      // which would end a watch on the file itself.
      const name = basename(this.#path);
      this.#watcher = watchDirectory(dirname(this.#path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === name) this.#scheduleReload();
      });
      this.#watcher.on('error', (error) => this.#listeners.rejected(error));
      // Catches a change made between the caller's load() and this watch.
      this.#scheduleReload();
    }
    return () => {
      remove();
      if (this.#listeners.size === 0) this.#stopWatching();
    };
  }

  #stopWatching(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#cancelReload?.();
    this.#cancelReload = undefined;
  }

  #scheduleReload(): void {
    this.#cancelReload?.();
    this.#cancelReload = this.#clock.schedule(this.#debounceMs, () => {
      this.#cancelReload = undefined;
      void this.#serially(() => this.#reload());
    });
  }

  async #reload(): Promise<void> {
    try {
      const text = await this.#readText();
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
    const parsed = text === null ? null : parseConfigYaml(text, this.#path);
    const document = (parsed ?? {}) as ConfigDocument;
    return { text, document, config: parseRuntimeConfig(document, this.#parseOptions) };
  }

  async #readText(): Promise<string | null> {
    try {
      return await readFile(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** Temp file in the same directory (same filesystem), flushed, then renamed over the target. */
  async #writeAtomically(text: string): Promise<void> {
    // The file may hold inline credentials: keep the existing mode, else owner-only.
    const mode = await stat(this.#path).then(
      (stats) => stats.mode & 0o777,
      () => 0o600,
    );
    const temporary = join(dirname(this.#path), `.${basename(this.#path)}.${randomUUID()}.tmp`);
    const handle = await open(temporary, 'wx', mode);
    try {
      await handle.chmod(mode); // open's mode is masked by the umask
      await handle.writeFile(text, 'utf8');
      await handle.sync();
      await handle.close();
      await rename(temporary, this.#path);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  }

  #serially<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}
