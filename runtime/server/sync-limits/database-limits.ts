import type { Kysely } from 'kysely';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../../errors.js';
import type { SqlDatabase } from '../../store/sql-database.js';
import { databaseLimitKey } from '../../controller/sync/lock-name.js';
import type { SyncTables } from '../../controller/sync/sync-tables.js';
import type { SyncLimit, SyncLimitRef, SyncLimitStorage } from './sync-limit.js';

/** `sync_limit.name` is varchar(256). */
const MAX_NAME_LENGTH = 256;

/** Database limits: rows `<ns>/<key>` of the sync database's limit table, with Argo's `sync_db.go` texts. */
export class DatabaseLimits implements SyncLimitStorage {
  readonly #db: Kysely<SyncTables>;
  readonly #table: 'sync_limit';

  constructor(
    private readonly database: SqlDatabase,
    limitTableName: string,
    /** Called after a change, so waiting workflows look again at once. */
    private readonly onChange: (namespace: string, key: string) => void = () => undefined,
  ) {
    this.#db = database.db as Kysely<SyncTables>;
    this.#table = limitTableName as 'sync_limit';
  }

  async create(limit: SyncLimit): Promise<SyncLimit> {
    const name = rowName(limit);
    try {
      await this.#db.insertInto(this.#table).values({ name, sizelimit: limit.limit }).execute();
    } catch (error) {
      if (this.database.engine.isUniqueViolation(error)) throw new AlreadyExistsError(`Database sync limit already exists in namespace "${limit.namespace}".`);
      throw error;
    }
    this.onChange(limit.namespace, limit.key);
    return databaseLimit(limit, limit.limit);
  }

  async get(ref: SyncLimitRef): Promise<SyncLimit> {
    const row = await this.#db.selectFrom(this.#table).select('sizelimit').where('name', '=', rowName(ref)).executeTakeFirst();
    if (!row) throw notFound(ref.namespace);
    return databaseLimit(ref, Number(row.sizelimit ?? 0));
  }

  async update(limit: SyncLimit): Promise<SyncLimit> {
    const name = rowName(limit);
    // MySQL counts only changed rows as affected, so an update to the same value is told apart by a read.
    const existing = await this.#db.selectFrom(this.#table).select('name').where('name', '=', name).executeTakeFirst();
    if (!existing) throw notFound(limit.namespace);
    await this.#db.updateTable(this.#table).set({ sizelimit: limit.limit }).where('name', '=', name).execute();
    this.onChange(limit.namespace, limit.key);
    return databaseLimit(limit, limit.limit);
  }

  async delete(ref: SyncLimitRef): Promise<SyncLimit | undefined> {
    const name = rowName(ref);
    const existing = await this.#db.selectFrom(this.#table).select('sizelimit').where('name', '=', name).executeTakeFirst();
    await this.#db.deleteFrom(this.#table).where('name', '=', name).execute();
    if (existing) this.onChange(ref.namespace, ref.key);
    return existing && databaseLimit(ref, Number(existing.sizelimit ?? 0));
  }

  async list(namespace: string): Promise<SyncLimit[]> {
    const prefix = `${namespace}/`;
    const rows = await this.#db.selectFrom(this.#table).select(['name', 'sizelimit']).where('name', 'like', `${prefix.replace(/[\\%_]/g, '\\$&')}%`).orderBy('name').execute();
    return rows.map((row) => ({ type: 'DATABASE', namespace, key: row.name.slice(prefix.length), limit: Number(row.sizelimit ?? 0) }));
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
