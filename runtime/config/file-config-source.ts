import { randomUUID } from 'node:crypto';
import { watch as watchDirectory } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { ParseOptions } from './runtime-config.js';
import { TextConfigSource } from './text-config-source.js';

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

/** A configuration file, hot-reloaded: see `ConfigSource` for the contract. */
export class FileConfigSource extends TextConfigSource {
  readonly #path: string;
  readonly #clock: Clock;
  readonly #debounceMs: number;
  #cancelReload: (() => void) | undefined;

  constructor(options: FileConfigSourceOptions) {
    super(options.parse);
    this.#path = resolve(options.path);
    this.#clock = options.clock ?? systemClock;
    this.#debounceMs = options.debounceMs ?? 100;
  }

  get description(): string {
    return this.#path;
  }

  protected async readText(): Promise<string | null> {
    try {
      return await readFile(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** Temp file in the same directory (same filesystem), flushed, then renamed over the target. */
  protected async writeText(text: string): Promise<void> {
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

  protected async startWatching(changed: () => void): Promise<() => void> {
    // The directory, not the file: editors and `save` replace the file by renaming over it,
    // which would end a watch on the file itself.
    const name = basename(this.#path);
    const watcher = watchDirectory(dirname(this.#path), { persistent: false }, (_event, filename) => {
      if (filename === null || filename === name) changed();
    });
    watcher.on('error', (error) => this.watchFailed(error));
    // Catches a change made between the caller's load() and this watch.
    changed();
    return () => {
      watcher.close();
      this.#cancelReload?.();
      this.#cancelReload = undefined;
    };
  }

  /** Waits for the file to be quiet for the debounce time: editors write in several steps. */
  protected override reloadSoon(): void {
    this.#cancelReload?.();
    this.#cancelReload = this.#clock.schedule(this.#debounceMs, () => {
      this.#cancelReload = undefined;
      super.reloadSoon();
    });
  }
}
