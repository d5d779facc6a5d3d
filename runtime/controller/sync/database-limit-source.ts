import type { LimitRows } from '../../store/sync/limit-rows.js';
import { databaseLimitKey } from './lock-name.js';
import type { LimitReading, LimitSource } from './limit-source.js';

/** The limit of a database semaphore: `sync_limit.sizelimit` of the row `<ns>/<key>`. */
export class DatabaseLimitSource implements LimitSource {
  constructor(
    private readonly limits: LimitRows,
    private readonly namespace: string,
    private readonly key: string,
  ) {}

  async read(): Promise<LimitReading> {
    const limit = await this.limits.read(databaseLimitKey(this.namespace, this.key));
    if (limit === undefined || limit === null) {
      return {
        problem: `Database sync limit not found in namespace "${this.namespace}" (create it with: argosync sync create ${this.key} --type database --limit <N> -n ${this.namespace})`,
      };
    }
    return { limit };
  }
}
