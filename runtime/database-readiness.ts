import type { ReadinessCheck, ReadinessStatus } from './server/routes/operations.js';
import { pingDatabase, type SqlDatabase } from './store/sql-database.js';

/** What a readiness check looks at now: the database in use (the config API may switch it), or why there is none. */
export type DatabaseInUse = { readonly database: SqlDatabase; readonly note?: string } | { readonly database: undefined; readonly note: string };

/**
 * `/readyz`'s check of one of the three databases (SPEC §4): ready when it answers, with the database named;
 * otherwise not ready with the outage message (`sync database postgresql at db:5432 is unavailable: …`).
 */
export function databaseReadiness(name: string, inUse: () => DatabaseInUse): ReadinessCheck {
  return {
    name,
    async check(): Promise<ReadinessStatus> {
      const { database, note } = inUse();
      if (!database) return { ready: true, message: note };
      await pingDatabase(database);
      return { ready: true, message: note ? `${database.description} (${note})` : database.description };
    },
  };
}
