import type { NodeStatus } from '../workflows/workflow.js';
import type { SqlDatabase } from '../../store/sql-database.js';
import { OffloadRows } from '../../store/offload/offload-rows.js';
import { offloadVersion } from './fnv.js';
import { InternalError } from '../../errors.js';

type Nodes = Readonly<Record<string, NodeStatus>>;

/** Argo's offload repository: nodes of large workflows in `<persistence.tableName>` keyed by (cluster, uid, version). */
export class SqlOffloadRepository {
  readonly #rows: OffloadRows;

  constructor(database: SqlDatabase, options: { readonly tableName: string; readonly clusterName: string }) {
    this.#rows = new OffloadRows(database, options);
  }

  /** Stores the nodes under `fnv:<hash>`; the same content stored twice is one row (a duplicate key is success). */
  async save(uid: string, namespace: string, nodes: Nodes | null): Promise<string> {
    const nodesJson = JSON.stringify(nodes);
    const version = offloadVersion(nodesJson);
    await this.#rows.insert({ uid, version, namespace, nodesJson });
    return version;
  }

  async get(uid: string, version: string): Promise<Nodes> {
    const row = await this.#rows.read<Nodes>(uid, version);
    if (!row.found) throw new InternalError(`offloaded nodes of workflow ${uid} at version ${version} not found in ${this.#rows.table}`);
    return row.nodes;
  }

  /** Versions last written before `writtenBefore`, by workflow uid (Argo's `ListOldOffloads`). */
  async listOld(writtenBefore: Date): Promise<Map<string, string[]>> {
    const byUid = new Map<string, string[]>();
    for (const row of await this.#rows.writtenBefore(writtenBefore)) byUid.set(row.uid, [...(byUid.get(row.uid) ?? []), row.version]);
    return byUid;
  }

  async delete(uid: string, version: string): Promise<void> {
    await this.#rows.delete(uid, version);
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
    return this.#rows.count(uid);
  }
}
