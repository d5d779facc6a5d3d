import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../../errors.js';
import type { LimitRows } from '../../store/sync/limit-rows.js';
import { databaseLimitKey } from '../../controller/sync/lock-name.js';
import type { LimitReadCache } from './limit-read-cache.js';
import type { BeforeChange, SyncLimit, SyncLimitRef, SyncLimitStorage } from './sync-limit.js';

/** `sync_limit.name` is varchar(256). */
const MAX_NAME_LENGTH = 256;

/** Database limits: rows `<ns>/<key>` of the sync database's limit table, with Argo's `sync_db.go` texts. */
export class DatabaseLimits implements SyncLimitStorage {
  constructor(
    private readonly rows: LimitRows,
    /** Called after a change, so waiting workflows look again at once. */
    private readonly onChange: (namespace: string, key: string) => void = () => undefined,
    /** Only where this process is the database's sole writer (see LimitReadCache). */
    private readonly cache?: LimitReadCache,
  ) {}

  async create(limit: SyncLimit): Promise<SyncLimit> {
    const name = rowName(limit);
    if (!(await this.#write(name, () => this.rows.insert({ name, limit: limit.limit })))) throw new AlreadyExistsError(`Database sync limit already exists in namespace "${limit.namespace}".`);
    this.onChange(limit.namespace, limit.key);
    return databaseLimit(limit, limit.limit);
  }

  async get(ref: SyncLimitRef): Promise<SyncLimit> {
    const size = await this.#read(rowName(ref));
    if (size === undefined) throw notFound(ref.namespace);
    return databaseLimit(ref, size ?? 0);
  }

  async update(limit: SyncLimit, beforeChange: BeforeChange): Promise<SyncLimit> {
    const name = rowName(limit);
    // MySQL counts only changed rows as affected, so an update to the same value is told apart by a read.
    const existing = await this.#read(name);
    if (existing === undefined) throw notFound(limit.namespace);
    await beforeChange(databaseLimit(limit, existing ?? 0));
    await this.#write(name, () => this.rows.update({ name, limit: limit.limit }));
    this.onChange(limit.namespace, limit.key);
    return databaseLimit(limit, limit.limit);
  }

  async delete(ref: SyncLimitRef, beforeChange: BeforeChange): Promise<SyncLimit | undefined> {
    const name = rowName(ref);
    const existing = await this.#read(name);
    // Deleting a missing row succeeds, as Argo's.
    if (existing === undefined) return undefined;
    const removed = databaseLimit(ref, existing ?? 0);
    await beforeChange(removed);
    await this.#write(name, () => this.rows.delete(name));
    this.onChange(ref.namespace, ref.key);
    return removed;
  }

  #read(name: string): Promise<number | null | undefined> {
    return this.cache ? this.cache.read(name, () => this.rows.read(name)) : this.rows.read(name);
  }

  #write<T>(name: string, change: () => Promise<T>): Promise<T> {
    return this.cache ? this.cache.write(name, change) : change();
  }

  async list(namespace: string): Promise<SyncLimit[]> {
    const prefix = `${namespace}/`;
    return (await this.rows.list(prefix)).map((row) => ({ type: 'DATABASE', namespace, key: row.name.slice(prefix.length), limit: row.limit }));
  }
}

function rowName(ref: SyncLimitRef): string {
  const name = databaseLimitKey(ref.namespace, ref.key);
  if (name.length > MAX_NAME_LENGTH) throw new InvalidArgumentError(`namespace and key together must be at most ${MAX_NAME_LENGTH - 1} characters, got ${name.length - 1}`);
  return name;
}

function databaseLimit(ref: SyncLimitRef, limit: number): SyncLimit {
  return { type: 'DATABASE', namespace: ref.namespace, key: ref.key, limit };
}

function notFound(namespace: string): NotFoundError {
  return new NotFoundError(`Database sync limit not found in namespace "${namespace}".`);
}
