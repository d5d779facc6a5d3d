import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, Watch, type KubeConfig, type V1ConfigMap, type V1ConfigMapList, type V1Status } from '@kubernetes/client-node';
import {
  AlreadyExistsError,
  ConflictError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
} from '../errors.js';
import { kubernetesStatusCode } from '../kubernetes-status.js';
import type { ConfigMap, ConfigMapEvent, ConfigMapStore } from './configmap-store.js';

const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * Real ConfigMaps through the Kubernetes API (SPEC §4). The API server does the validation, the
 * optimistic concurrency (`update` sends the resourceVersion it was given) and the watch; its `Status`
 * failures become argosync's errors with Kubernetes's message text.
 */
export class KubernetesConfigMapStore implements ConfigMapStore {
  readonly #api: CoreV1Api;
  readonly #watch: Watch;

  constructor(kubeConfig: KubeConfig) {
    this.#api = kubeConfig.makeApiClient(CoreV1Api);
    this.#watch = new Watch(kubeConfig);
  }

  async get(namespace: string, name: string): Promise<ConfigMap | undefined> {
    try {
      return toConfigMap(await call(() => this.#api.readNamespacedConfigMap({ namespace, name })));
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  async list(namespace?: string): Promise<ConfigMap[]> {
    return (await this.#list(namespace)).items.map(toConfigMap);
  }

  async create(configMap: Omit<ConfigMap, 'resourceVersion'>): Promise<ConfigMap> {
    const { namespace, name, data, labels } = configMap;
    const body: V1ConfigMap = { metadata: { namespace, name, ...(labels && { labels: { ...labels } }) }, data: { ...data } };
    return toConfigMap(await call(() => this.#api.createNamespacedConfigMap({ namespace, body })));
  }

  async update(configMap: ConfigMap): Promise<ConfigMap> {
    const { namespace, name, data, labels, resourceVersion } = configMap;
    const body: V1ConfigMap = { metadata: { namespace, name, resourceVersion, ...(labels && { labels: { ...labels } }) }, data: { ...data } };
    return toConfigMap(await call(() => this.#api.replaceNamespacedConfigMap({ namespace, name, body })));
  }

  async delete(namespace: string, name: string): Promise<void> {
    await call(() => this.#api.deleteNamespacedConfigMap({ namespace, name }));
  }

  async watch(namespace: string | undefined, onEvent: (event: ConfigMapEvent) => void): Promise<() => void> {
    const watch = new ConfigMapWatch(this.#watch, () => this.#list(namespace), namespace, onEvent);
    await watch.start();
    return () => watch.stop();
  }

  #list(namespace: string | undefined): Promise<V1ConfigMapList> {
    return call(() => (namespace === undefined ? this.#api.listConfigMapForAllNamespaces() : this.#api.listNamespacedConfigMap({ namespace })));
  }
}

/**
 * One watch, kept alive like an informer's: it lists to learn the current resourceVersion, watches from
 * there, and when the stream ends resumes from the last version it saw. When that version has been
 * compacted away (410 Gone) it lists again and reports the difference to what it knew as events.
 */
class ConfigMapWatch {
  readonly #watcher: Watch;
  readonly #list: () => Promise<V1ConfigMapList>;
  readonly #path: string;
  readonly #onEvent: (event: ConfigMapEvent) => void;
  readonly #stopped = new AbortController();
  #known = new Map<string, ConfigMap>();
  #resourceVersion = '';
  #expired = false;
  #connection: AbortController | undefined;

  constructor(watcher: Watch, list: () => Promise<V1ConfigMapList>, namespace: string | undefined, onEvent: (event: ConfigMapEvent) => void) {
    this.#watcher = watcher;
    this.#list = list;
    this.#path = namespace === undefined ? '/api/v1/configmaps' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
    this.#onEvent = onEvent;
  }

  /** Resolves once the server has answered the watch request. */
  async start(): Promise<void> {
    await this.#relist(false);
    try {
      await this.#connect();
    } catch (error) {
      throw translate(error);
    }
  }

  stop(): void {
    this.#stopped.abort();
    this.#connection?.abort();
  }

  /** Opens the stream from `#resourceVersion`; resolves when the response headers are in, rejects when it fails before. */
  #connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      let established = false;
      let ended = false;
      const done = (error: unknown) => {
        ended = true;
        this.#connection = undefined;
        if (!established) reject(error ?? new Error('the watch stream ended before it was established'));
        else if (!this.#stopped.signal.aborted) void this.#resume(error);
      };
      const query = { resourceVersion: this.#resourceVersion };
      this.#watcher.watch(this.#path, query, (type, object) => this.#receive(type, object), done).then((connection) => {
        if (ended) return;
        established = true;
        this.#connection = connection;
        if (this.#stopped.signal.aborted) connection.abort();
        resolve();
      }, reject);
    });
  }

  /** Reconnects until it succeeds or is stopped, at once the first time and with capped backoff after failures. */
  async #resume(cause: unknown): Promise<void> {
    let error = cause;
    for (let attempt = 0; !this.#stopped.signal.aborted; attempt++) {
      try {
        if (attempt > 0) await sleep(Math.min(RETRY_BASE_MS * 2 ** (attempt - 1), RETRY_MAX_MS), undefined, { signal: this.#stopped.signal });
        if (this.#expired || kubernetesStatusCode(error) === 410) {
          await this.#relist(true);
          this.#expired = false;
        }
        await this.#connect();
        return;
      } catch (caught) {
        error = caught;
      }
    }
  }

  #receive(type: string, object: unknown): void {
    if (this.#stopped.signal.aborted) return;
    if (type === 'ERROR') {
      // Kubernetes ends the stream after an ERROR event; 410 means our resourceVersion is too old to resume from.
      if ((object as V1Status).code === 410) this.#expired = true;
      this.#connection?.abort();
      return;
    }
    const configMap = toConfigMap(object as V1ConfigMap);
    this.#resourceVersion = configMap.resourceVersion;
    if (type === 'ADDED' || type === 'MODIFIED') this.#known.set(keyOf(configMap), configMap);
    else if (type === 'DELETED') this.#known.delete(keyOf(configMap));
    else return; // BOOKMARK: only the version moves
    this.#onEvent({ type, configMap });
  }

  /** Lists afresh; with `announce`, reports what changed since the last known state as events. */
  async #relist(announce: boolean): Promise<void> {
    const list = await this.#list();
    const current = new Map(list.items.map((item) => toConfigMap(item)).map((configMap) => [keyOf(configMap), configMap]));
    const changes: ConfigMapEvent[] = [];
    for (const [key, configMap] of this.#known) {
      if (!current.has(key)) changes.push({ type: 'DELETED', configMap });
    }
    for (const [key, configMap] of current) {
      const known = this.#known.get(key);
      if (!known) changes.push({ type: 'ADDED', configMap });
      else if (known.resourceVersion !== configMap.resourceVersion) changes.push({ type: 'MODIFIED', configMap });
    }
    this.#known = current;
    this.#resourceVersion = list.metadata?.resourceVersion ?? '';
    if (!announce) return;
    for (const change of changes) if (!this.#stopped.signal.aborted) this.#onEvent(change);
  }
}

function keyOf(configMap: ConfigMap): string {
  return `${configMap.namespace}/${configMap.name}`;
}

function toConfigMap(configMap: V1ConfigMap): ConfigMap {
  const metadata = configMap.metadata ?? {};
  return {
    namespace: metadata.namespace ?? '',
    name: metadata.name ?? '',
    data: { ...configMap.data },
    labels: { ...metadata.labels },
    resourceVersion: metadata.resourceVersion ?? '',
  };
}

async function call<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw translate(error);
  }
}

/** The server's `Status` body, when the failure carries one. */
function statusOf(error: unknown): V1Status | undefined {
  if (!(error instanceof ApiException) || typeof error.body !== 'string') return undefined;
  try {
    return JSON.parse(error.body) as V1Status;
  } catch {
    return undefined;
  }
}

/** An API failure as argosync's error with the server's message; anything else (network errors) unchanged. */
function translate(error: unknown): unknown {
  const code = kubernetesStatusCode(error);
  if (code === undefined) return error;
  const status = statusOf(error);
  const message = status?.message ?? STATUS_CODES[code] ?? `HTTP ${code}`;
  const options = { cause: error };
  switch (code) {
    case 400:
    case 422:
      return new InvalidArgumentError(message, options);
    case 401:
      return new UnauthenticatedError(message, options);
    case 403:
      return new PermissionDeniedError(message, options);
    case 404:
      return new NotFoundError(message, options);
    case 409:
      return status?.reason === 'AlreadyExists' ? new AlreadyExistsError(message, options) : new ConflictError(message, options);
    case 429:
      return new ResourceExhaustedError(message, options);
    default:
      return new InternalError(message, options);
  }
}
