import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';
import { connectionFailureReason } from '../connection-failure.js';

/** Bounds the statements a connection keeps prepared: only a few hot ones are ever registered. */
const MAX_PREPARED = 32;

/**
 * The hot statements (by their SQL text) that every PostgreSQL connection runs as named prepared statements:
 * parsed and planned once per connection instead of at every call. Text outside the set runs unnamed.
 */
export class PreparedStatements {
  readonly #names = new Map<string, string>();

  keep(text: string): void {
    if (!this.#names.has(text) && this.#names.size < MAX_PREPARED) this.#names.set(text, `argosync_prepared_${this.#names.size + 1}`);
  }

  nameOf(text: string): string | undefined {
    return this.#names.get(text);
  }
}

/**
 * Kysely's view of a `pg` pool: its connections run the kept statements prepared, and a connection whose query
 * failed because the connection broke (the server terminated it, a restart) is dropped when it is released
 * rather than handed to the next caller, which `pg`'s pool would do until it notices the closed socket.
 */
export function preparingPool(pool: pg.Pool, statements: PreparedStatements): PostgresPool {
  // One wrapper per connection for its life: kysely keeps its own per-client state keyed by the client it is given.
  const clients = new WeakMap<pg.PoolClient, PreparingClient>();
  return {
    connect: async () => {
      const client = await pool.connect();
      let preparing = clients.get(client);
      if (!preparing) clients.set(client, (preparing = new PreparingClient(client, statements)));
      return preparing;
    },
    end: () => pool.end(),
  };
}

class PreparingClient implements PostgresPoolClient {
  #broken = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly statements: PreparedStatements,
  ) {}

  query<R>(sql: string, parameters: readonly unknown[]): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(textOrCursor: string | PostgresCursor<R>, parameters: readonly unknown[] = []): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    // Kysely streams through a pg-cursor, which pg runs as it is.
    if (typeof textOrCursor !== 'string') return this.client.query(textOrCursor as unknown as pg.Submittable) as unknown as PostgresCursor<R>;
    const name = this.statements.nameOf(textOrCursor);
    // pg's result types `command` as any string; kysely narrows it to the commands it reads.
    const result = this.client.query({ text: textOrCursor, values: [...parameters], ...(name === undefined ? {} : { name }) }) as unknown as Promise<PostgresQueryResult<R>>;
    return result.catch((error: unknown) => {
      if (connectionFailureReason(error) !== undefined) this.#broken = true;
      throw error;
    });
  }

  release(): void {
    const broken = this.#broken;
    this.#broken = false;
    this.client.release(broken);
  }
}
