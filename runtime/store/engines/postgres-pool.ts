import { createHash } from 'node:crypto';
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';
import { connectionFailureReason } from '../connection-failure.js';
import { errorCode } from './engine-traits.js';

/** Bounds the statements a connection keeps prepared: only a few hot ones are ever registered. */
const MAX_PREPARED = 32;

/**
 * SQLSTATEs of a prepared statement the server did not keep for this session: 26000 (it does not exist) and
 * 42P05 (another of that name exists). Both fail before the statement runs, so running it again unnamed is safe
 * (the kept statements run outside transactions, which the failure would have aborted).
 */
const LOST_PREPARED_STATEMENT = new Set(['26000', '42P05']);

/**
 * A prepared statement's name, derived from its text: behind a pooling proxy a server session may hold statements
 * another client prepared, and a name that another text could carry would run that text with this call's values.
 */
export function preparedStatementName(text: string): string {
  return `argosync_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
}

/**
 * The hot statements (by their SQL text) that every PostgreSQL connection runs as named prepared statements:
 * parsed and planned once per connection instead of at every call. Text outside the set runs unnamed.
 *
 * A server that does not keep a session's prepared statements (a transaction-pooling proxy such as PgBouncer,
 * or one that moved the session to a new server connection after a restart) fails them with
 * {@link LOST_PREPARED_STATEMENT}: from the first such failure every statement of the pool runs unnamed.
 */
export class PreparedStatements {
  readonly #names = new Map<string, string>();
  #lost = false;

  constructor(
    /** Hears, once, that the server lost a prepared statement and statements now run unnamed. */
    private readonly onLost: () => void = () => undefined,
  ) {}

  keep(text: string): void {
    if (!this.#names.has(text) && this.#names.size < MAX_PREPARED) this.#names.set(text, preparedStatementName(text));
  }

  nameOf(text: string): string | undefined {
    return this.#lost ? undefined : this.#names.get(text);
  }

  /** Whether `error` says the server lost a prepared statement; the first one turns preparing off. */
  lostBy(error: unknown): boolean {
    if (!LOST_PREPARED_STATEMENT.has(String(errorCode(error)))) return false;
    if (!this.#lost) {
      this.#lost = true;
      this.onLost();
    }
    return true;
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
    const run = (prepared: boolean) =>
      // pg's result types `command` as any string; kysely narrows it to the commands it reads.
      this.client.query({ text: textOrCursor, values: [...parameters], ...(prepared && name !== undefined ? { name } : {}) }) as unknown as Promise<PostgresQueryResult<R>>;
    return run(true)
      .catch((error: unknown) => {
        if (name !== undefined && this.statements.lostBy(error)) return run(false);
        throw error;
      })
      .catch((error: unknown) => {
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
