import { createHash } from 'node:crypto';
import { ApiRequestError, type ApiClient } from '../../runtime/client/api-client.js';
import { UNKNOWN, type CheckFailure, type CustomResourceHandler, type DiffResult, type ReadResult } from '../resource-handler.js';

export const SYNC_DATABASE_TOKEN = 'argosync:index:SyncDatabase';
/** There is one synchronization section per runtime. */
const ID = 'synchronization';
const PATH = '/api/v1/config/synchronization';

const CONNECTION = ['host', 'port', 'database', 'username', 'password', 'ssl', 'sslMode', 'options'] as const;
const SETTINGS = [
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
] as const;
const INTEGERS = ['port', 'pollSeconds', 'heartbeatSeconds', 'inactiveControllerSeconds', 'semaphoreLimitCacheSeconds'];
const BOOLEANS = ['ssl', 'enableAPI', 'skipMigration'];

export type SyncDatabaseInputs = Record<string, unknown> & { readonly driver: 'postgresql' | 'mysql' };
export type SyncDatabaseOutputs = SyncDatabaseInputs & { readonly schemaVersion: number; readonly controllers: readonly { name: string; lastHeartbeat: string | null }[] };

interface SectionView {
  readonly postgresql?: Record<string, unknown>;
  readonly mysql?: Record<string, unknown>;
  readonly schemaVersion?: number;
  readonly controllers?: { name: string; lastHeartbeat: string | null }[];
  readonly [setting: string]: unknown;
}

/** `SyncDatabase` (SPEC §9): the runtime's `synchronization` section, through `PUT /api/v1/config/synchronization`. */
export class SyncDatabaseHandler implements CustomResourceHandler<SyncDatabaseInputs, SyncDatabaseOutputs> {
  constructor(private readonly client: ApiClient) {}

  check(news: Record<string, unknown>) {
    const failures: CheckFailure[] = [];
    const known = (name: string) => news[name] !== undefined && news[name] !== UNKNOWN;
    if (news.driver !== UNKNOWN && news.driver !== 'postgresql' && news.driver !== 'mysql') {
      failures.push({ property: 'driver', reason: `must be "postgresql" or "mysql", got ${JSON.stringify(news.driver)}` });
    }
    for (const name of ['host', 'database']) if (news[name] === undefined || news[name] === '') failures.push({ property: name, reason: 'is required' });
    for (const name of INTEGERS) {
      const value = news[name];
      if (known(name) && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) failures.push({ property: name, reason: `must be a whole number, got ${JSON.stringify(value)}` });
    }
    for (const name of BOOLEANS) if (known(name) && typeof news[name] !== 'boolean') failures.push({ property: name, reason: `must be true or false, got ${JSON.stringify(news[name])}` });
    const inputs = { enableAPI: true, ...pick(news, ['driver', ...CONNECTION, ...SETTINGS]) } as unknown as SyncDatabaseInputs;
    return { inputs, failures };
  }

  diff(olds: SyncDatabaseInputs, news: SyncDatabaseInputs): DiffResult {
    const names = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((name) => name !== 'schemaVersion' && name !== 'controllers');
    const diffs = names.filter((name) => JSON.stringify(olds[name]) !== JSON.stringify(news[name])).sort();
    // A section is changed in place: the runtime switches databases live.
    return { changes: diffs.length > 0, diffs, replaces: [] };
  }

  async create(_name: string, inputs: SyncDatabaseInputs) {
    return { id: ID, outputs: await this.#put(inputs) };
  }

  async read(_id: string, recorded?: SyncDatabaseInputs): Promise<ReadResult<SyncDatabaseInputs, SyncDatabaseOutputs> | undefined> {
    const view = await this.client.send<SectionView>('GET', PATH);
    const inputs = toInputs(view, recorded);
    if (!inputs) return undefined;
    return { id: ID, inputs, outputs: { ...inputs, schemaVersion: view.schemaVersion ?? 0, controllers: view.controllers ?? [] } };
  }

  async update(_id: string, _olds: SyncDatabaseInputs, news: SyncDatabaseInputs) {
    return this.#put(news);
  }

  /** Detaches the database from the runtime; its tables stay. */
  async delete(): Promise<void> {
    try {
      await this.client.send('DELETE', PATH);
    } catch (error) {
      if (!(error instanceof ApiRequestError) || error.status !== 404) throw error;
    }
  }

  async #put(inputs: SyncDatabaseInputs): Promise<SyncDatabaseOutputs> {
    const view = await this.client.send<SectionView>('PUT', PATH, toSection(inputs));
    return { ...inputs, schemaVersion: view.schemaVersion ?? 0, controllers: view.controllers ?? [] };
  }
}

/** The section as the runtime reads it: Argo's keys, the connection under the driver's name. */
function toSection(inputs: SyncDatabaseInputs): Record<string, unknown> {
  const { username, ...connection } = pick(inputs, CONNECTION);
  return { ...pick(inputs, SETTINGS), [inputs.driver]: { ...connection, ...(username === undefined ? {} : { userName: username }) } };
}

/**
 * Inputs from the live section. The password never comes back: when its SHA-256 matches the recorded password,
 * that one is kept; when it differs, the value says so (drift), without any secret in it.
 */
function toInputs(view: SectionView, recorded: SyncDatabaseInputs | undefined): SyncDatabaseInputs | undefined {
  const driver = view.postgresql ? 'postgresql' : view.mysql ? 'mysql' : undefined;
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
    ...pick(view, SETTINGS),
    ...(view.enableAPI === undefined ? { enableAPI: true } : {}),
    driver,
    ...pick(connection, CONNECTION),
    ...(userName === undefined ? {} : { username: userName }),
    ...(password === undefined ? {} : { password }),
  } as SyncDatabaseInputs;
}

function pick(source: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.filter((name) => source[name] !== undefined).map((name) => [name, source[name]]));
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
