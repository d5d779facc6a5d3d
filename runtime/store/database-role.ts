import type { ConnectionSpec } from './connection-spec.js';

/** Which of the three databases of SPEC §4 a handle serves, as messages name it. */
export type DatabaseRole = 'state store' | 'sync database' | 'persistence database' | 'database';

/** `host:port` of a spec (the port only when given), never credentials. */
export function addressOf(spec: ConnectionSpec): string {
  return `${spec.host ?? 'localhost'}${spec.port ? `:${spec.port}` : ''}`;
}

/** How outage messages name a database: `sync database postgresql at db:5432`. */
export function nameInOutages(role: DatabaseRole, spec: ConnectionSpec): string {
  return `${role} ${spec.driver} at ${addressOf(spec)}`;
}
