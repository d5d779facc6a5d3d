import { databaseLimitKey } from './lock-name.js';
import type { LimitReading, LimitSource } from './limit-source.js';
import type { SyncDb, SyncTableRefs } from './sync-tables.js';

/** The limit of a database semaphore: `sync_limit.sizelimit` of the row `<ns>/<key>`. */
export class DatabaseLimitSource implements LimitSource {
  constructor(
    private readonly db: SyncDb,
    private readonly tables: SyncTableRefs,
    private readonly namespace: string,
    private readonly key: string,
  ) {}

  async read(): Promise<LimitReading> {
    const row = await this.db.selectFrom(this.tables.limit).select('sizelimit').where('name', '=', databaseLimitKey(this.namespace, this.key)).executeTakeFirst();
    if (!row || row.sizelimit === null) {
      return {
        problem: `Database sync limit not found in namespace "${this.namespace}" (create it with: argosync sync create ${this.key} --type database --limit <N> -n ${this.namespace})`,
      };
    }
    return { limit: Number(row.sizelimit) };
  }
}
