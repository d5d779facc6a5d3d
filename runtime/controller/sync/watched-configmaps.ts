import type { ConfigMap, ConfigMapEvent, ConfigMapStore } from '../../store/configmap-store.js';

/**
 * An informer over every ConfigMap: listed once, then kept current by the store's watch, so reading a
 * ConfigMap semaphore's limit costs no round trip and changes still arrive within the event's latency.
 * `onChange` hears every change after it is applied.
 */
export class WatchedConfigMaps {
  readonly #store: ConfigMapStore;
  readonly #byKey = new Map<string, ConfigMap>();
  #stopWatch: (() => void) | undefined;

  constructor(store: ConfigMapStore) {
    this.#store = store;
  }

  async start(onChange: (configMap: ConfigMap) => void): Promise<void> {
    // Watch first and list second, so nothing falls between them; the newer version wins where they overlap.
    this.#stopWatch = await this.#store.watch(undefined, (event) => {
      this.#apply(event);
      onChange(event.configMap);
    });
    for (const configMap of await this.#store.list()) {
      const key = keyOf(configMap.namespace, configMap.name);
      const seen = this.#byKey.get(key);
      if (!seen || isNewer(configMap.resourceVersion, seen.resourceVersion)) this.#byKey.set(key, configMap);
    }
  }

  stop(): void {
    this.#stopWatch?.();
  }

  get(namespace: string, name: string): ConfigMap | undefined {
    return this.#byKey.get(keyOf(namespace, name));
  }

  #apply(event: ConfigMapEvent): void {
    const key = keyOf(event.configMap.namespace, event.configMap.name);
    if (event.type === 'DELETED') this.#byKey.delete(key);
    else this.#byKey.set(key, event.configMap);
  }
}

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** resourceVersions are opaque, but both stores issue increasing integers; anything else counts as newer. */
function isNewer(candidate: string, current: string): boolean {
  return !/^\d+$/.test(candidate) || !/^\d+$/.test(current) || BigInt(candidate) > BigInt(current);
}
