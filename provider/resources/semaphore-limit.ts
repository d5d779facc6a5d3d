import { ApiRequestError, type ApiClient } from '../../runtime/client/api-client.js';
import { configMapKeyProblem, labelProblem, subdomainProblem } from '../../runtime/store/kubernetes-names.js';
import { UNKNOWN, type CheckFailure, type CustomResourceHandler, type DiffResult, type ReadResult, type Unknown } from '../resource-handler.js';

export const SEMAPHORE_LIMIT_TOKEN = 'argosync:index:SemaphoreLimit';

export type LimitType = 'configmap' | 'database';

export interface SemaphoreLimitInputs {
  readonly namespace: string | Unknown;
  readonly key: string | Unknown;
  readonly type: LimitType | Unknown;
  readonly configMapName?: string | Unknown;
  readonly limit: number | Unknown;
}

export interface SemaphoreLimitOutputs {
  readonly namespace: string;
  readonly key: string;
  readonly type: LimitType;
  readonly configMapName?: string;
  readonly limit: number;
  /** `<ns>/ConfigMap/<cm>/<key>` or `<ns>/Database/<key>`, as in workflow status. */
  readonly lockName: string;
  /** Live counts, read-only and never diffed. */
  readonly holders: number;
  readonly waiting: number;
  /** Create found the limit already there and adopted it (`adoptExisting`): it existed before Pulumi. */
  readonly adopted?: boolean;
}

export type Known = { [K in keyof SemaphoreLimitInputs]: Exclude<SemaphoreLimitInputs[K], Unknown> };

export interface SemaphoreLimitSettings {
  /** Provider config `namespace` (default `default`): used when a resource names none. */
  readonly defaultNamespace: string;
  /** Provider config `adoptExisting`: take over a limit that already exists instead of failing. */
  readonly adoptExisting: boolean;
}

/** Changing any of these replaces the limit; `limit` itself updates in place. */
const REPLACE_ON = ['namespace', 'key', 'type', 'configMapName'] as const;

/** `SemaphoreLimit` (SPEC §9): a ConfigMap or database limit, managed through the sync limits API. */
export class SemaphoreLimitHandler implements CustomResourceHandler<SemaphoreLimitInputs, SemaphoreLimitOutputs> {
  constructor(
    private readonly client: ApiClient,
    private readonly settings: SemaphoreLimitSettings,
  ) {}

  check(news: Record<string, unknown>, oldOutputs?: Record<string, unknown>) {
    const failures: CheckFailure[] = [];
    const fail = (property: string, reason: string) => failures.push({ property, reason });
    const text = (property: string, value: unknown): string | Unknown | undefined => {
      if (value === UNKNOWN || value === undefined) return value;
      if (typeof value !== 'string') fail(property, `must be a string, got ${JSON.stringify(value)}`);
      return typeof value === 'string' ? value : undefined;
    };
    const namespace = text('namespace', news.namespace) ?? this.settings.defaultNamespace;
    const key = text('key', news.key);
    const configMapName = text('configMapName', news.configMapName);
    const type = news.type === undefined ? 'database' : news.type;
    const limit = news.limit;

    if (type !== UNKNOWN && type !== 'configmap' && type !== 'database') fail('type', `must be "configmap" or "database", got ${JSON.stringify(type)}`);
    if (typeof namespace === 'string') {
      const problem = namespaceProblem(namespace);
      if (problem) fail('namespace', problem);
    }
    if (key === undefined) fail('key', 'is required');
    else if (typeof key === 'string') {
      const problem = type === 'configmap' ? configMapKeyProblem(key) : key === '' ? 'must not be empty' : undefined;
      if (problem) fail('key', `${JSON.stringify(key)} is not a valid key: ${problem}`);
    }
    if (type === 'configmap') {
      if (configMapName === undefined) fail('configMapName', 'is required when type is "configmap"');
      else if (typeof configMapName === 'string') {
        const problem = subdomainProblem(configMapName);
        if (problem) fail('configMapName', `${JSON.stringify(configMapName)} is not a ConfigMap name: ${problem}`);
      }
    } else if (type === 'database' && configMapName !== undefined) {
      fail('configMapName', 'is only for type "configmap"');
    }
    if (limit === undefined) fail('limit', 'is required');
    else if (limit !== UNKNOWN && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 2147483647)) {
      fail('limit', `must be a whole number of at least 1, got ${JSON.stringify(limit)}`);
    }
    const inputs = {
      namespace,
      key: key ?? '',
      type: type as LimitType | Unknown,
      ...(configMapName === undefined ? {} : { configMapName }),
      limit: (limit ?? 0) as number | Unknown,
    } satisfies SemaphoreLimitInputs;
    return { inputs, failures, warnings: adoptedReplacementWarning(inputs, oldOutputs) };
  }

  idOf(inputs: SemaphoreLimitInputs): string | undefined {
    return Object.values(inputs).includes(UNKNOWN) ? undefined : idOf(known(inputs));
  }

  diff(olds: SemaphoreLimitInputs, news: SemaphoreLimitInputs): DiffResult {
    const properties = [...REPLACE_ON, 'limit'] as const;
    const diffs = properties.filter((property) => olds[property] !== news[property]);
    return { changes: diffs.length > 0, diffs, replaces: diffs.filter((property) => property !== 'limit') };
  }

  async create(name: string, inputs: SemaphoreLimitInputs) {
    const limit = known(inputs);
    const id = idOf(limit);
    try {
      await this.client.send('POST', `/api/v1/sync/${encodeURIComponent(limit.namespace)}`, { ...wireRef(limit), key: limit.key, limit: limit.limit });
    } catch (error) {
      if (!(error instanceof ApiRequestError) || error.status !== 409) throw error;
      if (!this.settings.adoptExisting) {
        throw new Error(`sync limit ${id} already exists; adopt it with: pulumi import ${SEMAPHORE_LIMIT_TOKEN} ${name} ${id} (or set argosync:adoptExisting)`);
      }
      await this.#put(limit);
      return { id, outputs: { ...(await this.#outputs(limit)), adopted: true } };
    }
    return { id, outputs: await this.#outputs(limit) };
  }

  async read(id: string, _recorded?: SemaphoreLimitInputs, recordedOutputs?: SemaphoreLimitOutputs): Promise<ReadResult<SemaphoreLimitInputs, SemaphoreLimitOutputs> | undefined> {
    const ref = parseId(id);
    let status: LimitStatus;
    try {
      status = await this.#status(ref);
    } catch (error) {
      if (error instanceof ApiRequestError && error.status === 404) return undefined;
      throw error;
    }
    const inputs: Known = { ...ref, limit: status.limit };
    return { id: idOf(inputs), inputs, outputs: { ...outputsOf(inputs, status), ...adoptedMark(recordedOutputs) } };
  }

  async update(_id: string, _olds: SemaphoreLimitInputs, news: SemaphoreLimitInputs, oldOutputs: SemaphoreLimitOutputs) {
    const limit = known(news);
    await this.#put(limit);
    return { ...(await this.#outputs(limit)), ...adoptedMark(oldOutputs) };
  }

  async delete(id: string): Promise<void> {
    const ref = parseId(id);
    try {
      await this.client.send('DELETE', `${limitPath(ref)}?${query(ref)}`);
    } catch (error) {
      // Database limits delete silently when absent; a ConfigMap that is gone took its key with it.
      if (!(error instanceof ApiRequestError) || error.status !== 404) throw error;
    }
  }

  async #put(limit: Known): Promise<void> {
    await this.client.send('PUT', limitPath(limit), { ...wireRef(limit), limit: limit.limit });
  }

  async #outputs(limit: Known): Promise<SemaphoreLimitOutputs> {
    return outputsOf(limit, await this.#status(limit));
  }

  /** The limit with its holders and waiters, in one call (a 404 when it is gone). */
  #status(ref: Parameters<typeof limitPath>[0] & Parameters<typeof query>[0]): Promise<LimitStatus> {
    return this.client.send<LimitStatus>('GET', `${limitPath(ref)}/status?${query(ref)}`);
  }
}

/** The adoption mark carried from the state over a refresh or an update. */
function adoptedMark(previous: SemaphoreLimitOutputs | undefined): Pick<SemaphoreLimitOutputs, 'adopted'> {
  return previous?.adopted ? { adopted: true } : {};
}

/**
 * A change that replaces an adopted limit deletes it, although it existed before Pulumi: said in Check, so that
 * it never happens silently.
 */
function adoptedReplacementWarning(news: SemaphoreLimitInputs, oldOutputs: Record<string, unknown> | undefined): string[] {
  if (oldOutputs?.adopted !== true || Object.values(news).includes(UNKNOWN)) return [];
  const oldId = idOf(oldOutputs as unknown as Known);
  const newId = idOf(news as Known);
  if (oldId === newId) return [];
  return [
    `sync limit ${oldId} was adopted (it existed before Pulumi); this change replaces it with ${newId} and deletes ${oldId}. ` +
      'To keep it, set the retainOnDelete resource option before applying, or change it back.',
  ];
}

export interface LimitStatus {
  readonly limit: number;
  readonly holders?: readonly unknown[];
  readonly waiting?: readonly unknown[];
}

export function outputsOf(limit: Known, status: LimitStatus): SemaphoreLimitOutputs {
  return {
    ...limit,
    lockName: limit.type === 'configmap' ? `${limit.namespace}/ConfigMap/${limit.configMapName}/${limit.key}` : `${limit.namespace}/Database/${limit.key}`,
    holders: status.holders?.length ?? 0,
    waiting: status.waiting?.length ?? 0,
  };
}

/** `configmap/<ns>/<cm>/<key>` or `database/<ns>/<key>` (database keys may contain `/`). */
/** Why `namespace` cannot name a Kubernetes namespace (a check failure's reason), or undefined. */
export function namespaceProblem(namespace: string): string | undefined {
  const problem = labelProblem(namespace);
  return problem && `${JSON.stringify(namespace)} is not a Kubernetes namespace name: ${problem}`;
}

export function idOf(limit: Pick<Known, 'namespace' | 'key' | 'type' | 'configMapName'>): string {
  return limit.type === 'configmap' ? `configmap/${limit.namespace}/${limit.configMapName}/${limit.key}` : `database/${limit.namespace}/${limit.key}`;
}

function parseId(id: string): Omit<Known, 'limit'> {
  const [type, namespace, ...rest] = id.split('/');
  if (type === 'database' && namespace && rest.length > 0) return { type, namespace, key: rest.join('/') };
  if (type === 'configmap' && namespace && rest.length === 2 && rest[0] && rest[1]) return { type, namespace, configMapName: rest[0], key: rest[1] };
  throw new Error(`invalid SemaphoreLimit id "${id}": expected database/<namespace>/<key> or configmap/<namespace>/<configMapName>/<key>`);
}

function known(inputs: SemaphoreLimitInputs): Known {
  for (const [property, value] of Object.entries(inputs)) {
    if (value === UNKNOWN) throw new Error(`${property} is not known yet; it cannot be applied before its value is`);
  }
  return inputs as Known;
}

function limitPath(ref: Pick<Known, 'namespace' | 'key'>): string {
  return `/api/v1/sync/${encodeURIComponent(ref.namespace)}/${encodeURIComponent(ref.key)}`;
}

function wireRef(ref: Pick<Known, 'type' | 'configMapName'>) {
  return ref.type === 'database' ? { type: 1 } : { type: 0, cmName: ref.configMapName };
}

function query(ref: Pick<Known, 'type' | 'configMapName'>): string {
  return new URLSearchParams(ref.type === 'database' ? { type: 'DATABASE' } : { type: 'CONFIGMAP', cmName: ref.configMapName ?? '' }).toString();
}
