import { sql, type Kysely } from 'kysely';
import type { SqlDatabase } from '../sql-database.js';
import { readJsonColumn } from '../json-column.js';

interface OffloadRow {
  clustername: string;
  uid: string;
  version: string;
  namespace: string;
  nodes: unknown;
  updatedat: Date;
}

/** One stored version of a workflow's nodes, as JSON text. */
export interface OffloadedNodes {
  readonly uid: string;
  readonly version: string;
  readonly namespace: string;
  readonly nodesJson: string;
}

/** The rows of Argo's offload table (`<persistence.tableName>`) of one cluster, keyed by (cluster, uid, version). */
export class OffloadRows {
  readonly #database: SqlDatabase;
  readonly #db: Kysely<Record<string, OffloadRow>>;
  readonly #table: string;
  readonly #clusterName: string;

  constructor(database: SqlDatabase, options: { readonly tableName: string; readonly clusterName: string }) {
    this.#database = database;
    this.#db = database.db as Kysely<Record<string, OffloadRow>>;
    this.#table = options.tableName;
    this.#clusterName = options.clusterName;
  }

  get table(): string {
    return this.#table;
  }

  /** Inserts the version; a row with the same key already there is success. */
  async insert(row: OffloadedNodes): Promise<void> {
    try {
      await this.#db.insertInto(this.#table).values({ clustername: this.#clusterName, uid: row.uid, version: row.version, namespace: row.namespace, nodes: row.nodesJson, updatedat: new Date() }).execute();
    } catch (error) {
      if (!this.#database.engine.isUniqueViolation(error)) throw error;
    }
  }

  /** The stored nodes of that version, decoded; `found: false` when there is no such row. */
  async read<T>(uid: string, version: string): Promise<{ readonly found: true; readonly nodes: T } | { readonly found: false }> {
    const row = await this.#db.selectFrom(this.#table).select('nodes').where('clustername', '=', this.#clusterName).where('uid', '=', uid).where('version', '=', version).executeTakeFirst();
    return row ? { found: true, nodes: readJsonColumn<T>(row.nodes) } : { found: false };
  }

  /** (uid, version) of the rows last written before `writtenBefore`. */
  async writtenBefore(writtenBefore: Date): Promise<{ readonly uid: string; readonly version: string }[]> {
    return this.#db.selectFrom(this.#table).select(['uid', 'version']).where('clustername', '=', this.#clusterName).where('updatedat', '<', writtenBefore).execute();
  }

  async delete(uid: string, version: string): Promise<void> {
    await this.#db.deleteFrom(this.#table).where('clustername', '=', this.#clusterName).where('uid', '=', uid).where('version', '=', version).execute();
  }

  /** How many rows the workflow has, in any cluster. */
  async count(uid: string): Promise<number> {
    const row = await this.#db.selectFrom(this.#table).select(sql<number>`count(*)`.as('n')).where('uid', '=', uid).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
