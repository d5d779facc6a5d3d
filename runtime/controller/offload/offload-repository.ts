import { sql, type Kysely } from 'kysely';
import type { NodeStatus } from '../workflows/workflow.js';
import type { SqlDatabase } from '../../store/sql-database.js';
import { offloadVersion } from './fnv.js';
import { InternalError } from '../../errors.js';
import { readJsonColumn } from '../../store/json-column.js';

type Nodes = Readonly<Record<string, NodeStatus>>;

interface OffloadRow {
  clustername: string;
  uid: string;
  version: string;
  namespace: string;
  nodes: unknown;
  updatedat: Date;
}

/** Argo's offload repository: nodes of large workflows in `<persistence.tableName>` keyed by (cluster, uid, version). */
export class SqlOffloadRepository {
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

  /** Stores the nodes under `fnv:<hash>`; the same content stored twice is one row (a duplicate key is success). */
  async save(uid: string, namespace: string, nodes: Nodes | null): Promise<string> {
    const json = JSON.stringify(nodes);
    const version = offloadVersion(json);
    try {
      await this.#db.insertInto(this.#table).values({ clustername: this.#clusterName, uid, version, namespace, nodes: json, updatedat: new Date() }).execute();
    } catch (error) {
      if (!this.#database.engine.isUniqueViolation(error)) throw error;
    }
    return version;
  }

  async get(uid: string, version: string): Promise<Nodes> {
    const row = await this.#db.selectFrom(this.#table).select('nodes').where('clustername', '=', this.#clusterName).where('uid', '=', uid).where('version', '=', version).executeTakeFirst();
    if (!row) throw new InternalError(`offloaded nodes of workflow ${uid} at version ${version} not found in ${this.#table}`);
    return readJsonColumn<Nodes>(row.nodes);
  }

  /** Versions last written before `writtenBefore`, by workflow uid (Argo's `ListOldOffloads`). */
  async listOld(writtenBefore: Date): Promise<Map<string, string[]>> {
    const rows = await this.#db
      .selectFrom(this.#table)
      .select(['uid', 'version'])
      .where('clustername', '=', this.#clusterName)
      .where('updatedat', '<', writtenBefore)
      .execute();
    const byUid = new Map<string, string[]>();
    for (const row of rows) byUid.set(row.uid, [...(byUid.get(row.uid) ?? []), row.version]);
    return byUid;
  }

  async delete(uid: string, version: string): Promise<void> {
    await this.#db.deleteFrom(this.#table).where('clustername', '=', this.#clusterName).where('uid', '=', uid).where('version', '=', version).execute();
  }

  /**
   * Argo's offload GC: deletes versions written before `writtenBefore`, never the one a live workflow points at
   * (`liveVersion` returns it, or undefined when the workflow is gone). Returns how many rows went.
   */
  async collect(writtenBefore: Date, liveVersion: (uid: string) => Promise<string | undefined>): Promise<number> {
    let deleted = 0;
    for (const [uid, versions] of await this.listOld(writtenBefore)) {
      const live = await liveVersion(uid);
      for (const version of versions) {
        if (version === live) continue;
        await this.delete(uid, version);
        deleted += 1;
      }
    }
    return deleted;
  }

  /** For tests and the bench: how many rows the workflow has. */
  async count(uid: string): Promise<number> {
    const row = await this.#db.selectFrom(this.#table).select(sql<number>`count(*)`.as('n')).where('uid', '=', uid).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
