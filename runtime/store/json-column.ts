/** A JSON column's value as stored (an object, array or null): PostgreSQL's jsonb comes back parsed, MariaDB's JSON as text. */
export function readJsonColumn<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}
