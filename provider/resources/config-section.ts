import { createHash } from 'node:crypto';
import { ApiRequestError, type ApiClient } from '../../runtime/client/api-client.js';
import { UNKNOWN, type CheckFailure, type CustomResourceHandler, type DiffResult, type ReadResult } from '../resource-handler.js';

/** How a resource maps onto one section of the runtime configuration (SPEC 7.4). */
export interface SectionSpec {
  /** `synchronization` or `persistence`: the resource id, and the path `/api/v1/config/<section>`. */
  readonly section: string;
  /** Section keys the resource sets, beside the connection. */
  readonly settings: readonly string[];
  /** Connection keys beyond the common ones (`tableName` of the persistence section). */
  readonly connectionExtras: readonly string[];
  readonly integers: readonly string[];
  readonly booleans: readonly string[];
  readonly defaults: Readonly<Record<string, unknown>>;
  /** Settings the runtime fills in when they are not given (kept out of the inputs read back, so no drift). */
  readonly runtimeDefaults?: readonly string[];
}

const CONNECTION = ['host', 'port', 'database', 'username', 'password', 'ssl', 'sslMode', 'options'] as const;

export const SYNC_DATABASE_TOKEN = 'argosync:index:SyncDatabase';
export const SYNC_DATABASE: SectionSpec = {
  section: 'synchronization',
  settings: [
    'controllerName',
    'limitTableName',
    'stateTableName',
    'controllerTableName',
    'lockTableName',
    'pollSeconds',
    'heartbeatSeconds',
    'inactiveControllerSeconds',
    'semaphoreLimitCacheSeconds',
    'enableAPI',
    'skipMigration',
  ],
  connectionExtras: [],
  integers: ['port', 'pollSeconds', 'heartbeatSeconds', 'inactiveControllerSeconds', 'semaphoreLimitCacheSeconds'],
  booleans: ['ssl', 'enableAPI', 'skipMigration'],
  defaults: { enableAPI: true },
  runtimeDefaults: ['controllerName'],
};

export const OFFLOAD_CONFIG_TOKEN = 'argosync:index:OffloadConfig';
export const OFFLOAD_CONFIG: SectionSpec = {
  section: 'persistence',
  settings: ['nodeStatusOffLoad', 'archive', 'archiveTTL', 'archiveLabelSelector', 'clusterName', 'skipMigration', 'useSyncDatabase'],
  connectionExtras: ['tableName'],
  integers: ['port'],
  booleans: ['ssl', 'nodeStatusOffLoad', 'archive', 'skipMigration', 'useSyncDatabase'],
  defaults: { nodeStatusOffLoad: false, archive: false },
};

/** `useSyncDatabase: true`: the runtime's sync database serves, so no connection is given (a table name may be). */
const SYNC_DATABASE_CONNECTION = 'useSyncDatabase';

/** Without `driver` when the section uses the sync database's connection. */
export type SectionInputs = Record<string, unknown> & { readonly driver?: 'postgresql' | 'mysql' };
export type SectionOutputs = SectionInputs & { readonly schemaVersion: number; readonly controllers?: readonly { name: string; lastHeartbeat: string | null }[] };

interface SectionView {
  readonly postgresql?: Record<string, unknown>;
  readonly mysql?: Record<string, unknown>;
  readonly schemaVersion?: number;
  readonly controllers?: { name: string; lastHeartbeat: string | null }[];
  readonly [setting: string]: unknown;
}

/**
 * `SyncDatabase` and `OffloadConfig` (SPEC §9): one section of the runtime configuration, written with
 * `PUT /api/v1/config/<section>`, read back for drift, detached (tables kept) on delete.
 */
export class ConfigSectionHandler implements CustomResourceHandler<SectionInputs, SectionOutputs> {
  readonly #path: string;

  constructor(
    private readonly client: ApiClient,
    private readonly spec: SectionSpec,
  ) {
    this.#path = `/api/v1/config/${spec.section}`;
  }

  check(news: Record<string, unknown>) {
    const failures: CheckFailure[] = [];
    const known = (name: string) => news[name] !== undefined && news[name] !== UNKNOWN;
    // Only a section that has the setting (OffloadConfig) may borrow the sync database's connection.
    if (this.spec.settings.includes(SYNC_DATABASE_CONNECTION) && news[SYNC_DATABASE_CONNECTION] === true) {
      for (const name of ['driver', ...CONNECTION]) if (news[name] !== undefined) failures.push({ property: name, reason: 'is not used with useSyncDatabase: the sync database\'s connection serves' });
    } else {
      if (news.driver !== UNKNOWN && news.driver !== 'postgresql' && news.driver !== 'mysql') {
        failures.push({ property: 'driver', reason: `must be "postgresql" or "mysql", got ${JSON.stringify(news.driver)}` });
      }
      for (const name of ['host', 'database']) if (news[name] === undefined || news[name] === '') failures.push({ property: name, reason: 'is required' });
    }
    for (const name of this.spec.integers) {
      const value = news[name];
      if (known(name) && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) failures.push({ property: name, reason: `must be a whole number, got ${JSON.stringify(value)}` });
    }
    for (const name of this.spec.booleans) if (known(name) && typeof news[name] !== 'boolean') failures.push({ property: name, reason: `must be true or false, got ${JSON.stringify(news[name])}` });
    const inputs = { ...this.spec.defaults, ...pick(news, ['driver', ...this.#connectionKeys(), ...this.spec.settings]) } as SectionInputs;
    return { inputs, failures };
  }

  diff(olds: SectionInputs, news: SectionInputs): DiffResult {
    const names = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((name) => name !== 'schemaVersion' && name !== 'controllers');
    const diffs = names.filter((name) => JSON.stringify(olds[name]) !== JSON.stringify(news[name])).sort();
    // A section is changed in place: the runtime switches databases live.
    return { changes: diffs.length > 0, diffs, replaces: [] };
  }

  /** One section per runtime: a replacement always keeps the id. */
  idOf(): string {
    return this.spec.section;
  }

  async create(_name: string, inputs: SectionInputs) {
    return { id: this.spec.section, outputs: await this.#put(inputs) };
  }

  async read(_id: string, recorded?: SectionInputs): Promise<ReadResult<SectionInputs, SectionOutputs> | undefined> {
    const view = await this.client.send<SectionView>('GET', this.#path);
    const live = this.#toInputs(view, recorded);
    if (!live) return undefined;
    // A setting the program left to the runtime's default stays out of the inputs, or refresh would see drift.
    const leftToRuntime = recorded ? (this.spec.runtimeDefaults ?? []).filter((name) => recorded[name] === undefined) : [];
    const inputs = Object.fromEntries(Object.entries(live).filter(([name]) => !leftToRuntime.includes(name))) as SectionInputs;
    return { id: this.spec.section, inputs, outputs: { ...live, schemaVersion: view.schemaVersion ?? 0, controllers: view.controllers ?? [] } };
  }

  async update(_id: string, _olds: SectionInputs, news: SectionInputs) {
    return this.#put(news);
  }

  /** Detaches the database from the runtime; its tables stay. */
  async delete(): Promise<void> {
    try {
      await this.client.send('DELETE', this.#path);
    } catch (error) {
      if (!(error instanceof ApiRequestError) || error.status !== 404) throw error;
    }
  }

  async #put(inputs: SectionInputs): Promise<SectionOutputs> {
    const view = await this.client.send<SectionView>('PUT', this.#path, this.#toSection(inputs));
    return {
      ...inputs,
      ...pick(view, this.spec.runtimeDefaults ?? []),
      schemaVersion: view.schemaVersion ?? 0,
      ...(view.controllers ? { controllers: view.controllers } : {}),
    };
  }

  #connectionKeys(): string[] {
    return [...CONNECTION, ...this.spec.connectionExtras];
  }

  /** The section as the runtime reads it: Argo's keys, the connection under the driver's name. */
  #toSection(inputs: SectionInputs): Record<string, unknown> {
    const { username, ...connection } = pick(inputs, this.#connectionKeys());
    if (inputs.driver === undefined) return { ...pick(inputs, this.spec.settings), ...connection };
    return { ...pick(inputs, this.spec.settings), [inputs.driver]: { ...connection, ...(username === undefined ? {} : { userName: username }) } };
  }

  /**
   * Inputs from the live section. The password never comes back: when its SHA-256 matches the recorded password,
   * that one is kept; when it differs, the value says so (drift), without any secret in it.
   */
  #toInputs(view: SectionView, recorded: SectionInputs | undefined): SectionInputs | undefined {
    const driver = view.postgresql ? 'postgresql' : view.mysql ? 'mysql' : undefined;
    if (view[SYNC_DATABASE_CONNECTION] === true) return { ...this.spec.defaults, ...pick(view, [...this.spec.settings, ...this.spec.connectionExtras]) };
    if (!driver) return undefined;
    const { userName, passwordSha256, ...connection } = view[driver] as Record<string, unknown>;
    const recordedPassword = typeof recorded?.password === 'string' ? recorded.password : undefined;
    const password =
      passwordSha256 === undefined
        ? undefined
        : recordedPassword !== undefined && sha256(recordedPassword) === passwordSha256
          ? recordedPassword
          : `(changed outside Pulumi; sha256 ${String(passwordSha256).slice(0, 12)}…)`;
    return {
      ...this.spec.defaults,
      ...pick(view, this.spec.settings),
      driver,
      ...pick(connection, this.#connectionKeys()),
      ...(userName === undefined ? {} : { username: userName }),
      ...(password === undefined ? {} : { password }),
    } as SectionInputs;
  }
}

function pick(source: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.filter((name) => source[name] !== undefined).map((name) => [name, source[name]]));
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
