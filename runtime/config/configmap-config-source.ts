import { AlreadyExistsError, ConflictError } from '../errors.js';
import type { ConfigMapStore } from '../store/configmap-store.js';
import type { ParseOptions } from './runtime-config.js';
import { TextConfigSource } from './text-config-source.js';

/** On Kubernetes the configuration is the key `config` of this ConfigMap (SPEC §3). */
export const CONFIG_MAP_NAME = 'argosync-config';
export const CONFIG_MAP_KEY = 'config';
const WRITE_ATTEMPTS = 5;

/** The configuration in ConfigMap `argosync-config`, key `config`, watched: see `ConfigSource` for the contract. */
export class ConfigMapConfigSource extends TextConfigSource {
  constructor(
    private readonly store: ConfigMapStore,
    private readonly namespace: string,
    parse: Omit<ParseOptions, 'source'> = {},
  ) {
    super(parse);
  }

  get description(): string {
    return `configmap ${this.namespace}/${CONFIG_MAP_NAME} key ${CONFIG_MAP_KEY}`;
  }

  protected async readText(): Promise<string | null> {
    return (await this.store.get(this.namespace, CONFIG_MAP_NAME))?.data[CONFIG_MAP_KEY] ?? null;
  }

  /** Replaces only the `config` key, retrying when someone else changed the ConfigMap in between. */
  protected async writeText(text: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const existing = await this.store.get(this.namespace, CONFIG_MAP_NAME);
        if (existing) await this.store.update({ ...existing, data: { ...existing.data, [CONFIG_MAP_KEY]: text } });
        else await this.store.create({ namespace: this.namespace, name: CONFIG_MAP_NAME, data: { [CONFIG_MAP_KEY]: text } });
        return;
      } catch (error) {
        const raced = error instanceof ConflictError || error instanceof AlreadyExistsError;
        if (!raced || attempt >= WRITE_ATTEMPTS) throw error;
      }
    }
  }

  protected async startWatching(changed: () => void): Promise<() => void> {
    const stop = await this.store.watch(this.namespace, (event) => {
      if (event.configMap.name === CONFIG_MAP_NAME) changed();
    });
    // Catches a change made between the caller's load() and this watch.
    changed();
    return stop;
  }
}
