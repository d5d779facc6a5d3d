import { createHash } from 'node:crypto';
import type { SyncTableRefs } from './sync-schema.js';

/**
 * The name of one of argosync's server-side sync functions for these table names: argosync's prefix, so an
 * Argo controller sharing the database never mistakes it for its own; a version, bumped whenever the body or
 * signature changes, so controllers of two versions never share one; and a hash of the table names, so two
 * deployments with different tables in one database each have theirs.
 */
export function syncFunctionName(purpose: 'acquire' | 'release', version: number, tables: SyncTableRefs): string {
  const hash = createHash('sha256').update(JSON.stringify([tables.limit, tables.controller, tables.state, tables.lock])).digest('hex').slice(0, 10);
  return `argosync_sync_${purpose}_v${version}_${hash}`;
}
