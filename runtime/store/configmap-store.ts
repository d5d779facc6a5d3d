/** A ConfigMap as argosync uses it: limits live in `data`, one integer string per key. */
export interface ConfigMap {
  readonly namespace: string;
  readonly name: string;
  readonly data: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  /** Opaque version; an update must carry the version it read. */
  readonly resourceVersion: string;
}

export type ConfigMapEvent =
  | { readonly type: 'ADDED' | 'MODIFIED'; readonly configMap: ConfigMap }
  | { readonly type: 'DELETED'; readonly configMap: ConfigMap };

/**
 * ConfigMap access with Kubernetes semantics, implemented over the Kubernetes API
 * (`kubernetes-configmap-store.ts`) and over the state store (`sql-configmap-store.ts`).
 * Both pass the one shared suite in `test/store/configmap-store.suite.ts`.
 */
export interface ConfigMapStore {
  /** The ConfigMap, or undefined when it does not exist. */
  get(namespace: string, name: string): Promise<ConfigMap | undefined>;
  /** All ConfigMaps of a namespace, or of every namespace when omitted. */
  list(namespace?: string): Promise<ConfigMap[]>;
  /** Creates it; AlreadyExistsError when the name is taken; InvalidArgumentError for a bad name. */
  create(configMap: Omit<ConfigMap, 'resourceVersion'>): Promise<ConfigMap>;
  /** Replaces data and labels; ConflictError when `resourceVersion` is stale, NotFoundError when gone. */
  update(configMap: ConfigMap): Promise<ConfigMap>;
  /** Deletes it; NotFoundError when it does not exist. */
  delete(namespace: string, name: string): Promise<void>;
  /**
   * Calls `onEvent` for every change in the namespace (every namespace when undefined) from now on.
   * Resolves once the watch is established; the returned function stops it.
   */
  watch(namespace: string | undefined, onEvent: (event: ConfigMapEvent) => void): Promise<() => void>;
}

/** The value under `key`, looking at own keys only: `constructor` or `__proto__` are ordinary keys, never Object.prototype's. */
export function configMapValue(configMap: Pick<ConfigMap, 'data'>, key: string): string | undefined {
  return Object.hasOwn(configMap.data, key) ? configMap.data[key] : undefined;
}
