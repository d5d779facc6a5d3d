import type { ConnectionSpec } from '../../runtime/store/connection-spec.js';

/** A `--state-store` URL for a PostgreSQL test database (its own schema), credentials escaped. */
export function stateStoreUrl(spec: ConnectionSpec): string {
  const { host, port, user, password, database, schema } = spec;
  const credentials = `${encodeURIComponent(user ?? 'postgres')}${password ? `:${encodeURIComponent(password)}` : ''}`;
  return `postgres://${credentials}@${host}:${port}/${database}${schema ? `?schema=${schema}` : ''}`;
}
