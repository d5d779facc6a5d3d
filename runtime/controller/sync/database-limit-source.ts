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
    return databaseLimitReading(this.namespace, this.key, await this.limits.read(databaseLimitKey(this.namespace, this.key)));
  }
}

/** The reading of a `sync_limit` row's value, however it was read (no row, or no value: the problem and its fix). */
export function databaseLimitReading(namespace: string, key: string, limit: number | null | undefined): LimitReading {
  if (limit === undefined || limit === null) {
    return { problem: `Database sync limit not found in namespace "${namespace}" (create it with: argosync sync create ${key} --type database --limit <N> -n ${namespace})` };
  }
  return { limit };
}
