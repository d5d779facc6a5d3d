import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, sql } from 'kysely';
import type { ConnectionSpec } from '../connection-spec.js';
import { databaseHandle, ReconnectedListeners, type EngineOpening, type SqlDatabase } from '../sql-database.js';
import { errorCode, messageLooksRetryable, schemaChannelName, type EngineTraits } from './engine-traits.js';
import { PgliteDialect } from './pglite-driver.js';
import { copyPgliteTemplate, ensurePgliteTemplate, pgliteTemplateBlob } from './pglite-template.js';

/**
 * Embedded PostgreSQL (PGlite). One process owns the data directory, so the migration lock is an
 * in-process queue per instance, and LISTEN/NOTIFY works within the process.
 */
export async function openPglite(spec: ConnectionSpec, opening: EngineOpening): Promise<SqlDatabase> {
  const pglite = await createPglite(spec.dataDir);
  return wrapPglite(pglite, spec, opening.description, () => pglite.close());
}

/** A PGlite on `dataDir` (in memory when undefined); a new one starts from the template when there is one. */
export async function createPglite(dataDir: string | undefined): Promise<PGlite> {
  useBaselineWasmCompiler();
  if (dataDir === undefined) {
    const template = await pgliteTemplateBlob();
    return PGlite.create(undefined, { ...PGLITE_OPTIONS, ...(template ? { loadDataDir: template } : {}) });
  }
  if (!existsSync(join(dataDir, 'PG_VERSION')) && !(await copyPgliteTemplate(dataDir))) mkdirSync(dataDir, { recursive: true });
  return PGlite.create(dataDir, PGLITE_OPTIONS);
}

/**
 * Runs PGlite's WebAssembly on V8's baseline compiler (Liftoff) alone. With tier-up, V8 recompiles PostgreSQL's hot functions with TurboFan on background threads; that compilation
 * peaks at about 90 MB of malloc'd memory, which glibc keeps in those threads' arenas once freed: 50-70 MB of an
 * idle runtime's RSS (issue 11). Liftoff code answers an indexed read in about twice the time (70 → 140 µs here),
 * which the embedded store can afford: it serves one process, and its hottest read, a limit's size, is cached.
 * V8 reads the flag when it compiles a module, so it is set before every PGlite starts (it is process-wide).
 */
function useBaselineWasmCompiler(): void {
  setFlagsFromString('--liftoff-only');
}

/** Writes the data-directory template new homes start from (build step), unless it exists; returns its path. */
export function writePgliteTemplate(): Promise<string> {
  return ensurePgliteTemplate(async (dataDir) => {
    const pglite = await PGlite.create(dataDir, PGLITE_OPTIONS);
    await pglite.close();
  });
}

const PGLITE_OPTIONS = {
  /** Argo's `timestamp` columns hold UTC: read them as UTC whatever the machine's zone. */
  parsers: { 1114: (value: string) => new Date(`${value.replace(' ', 'T')}Z`) },
  // PostgreSQL's default 128 MB buffer cache is most of an idle runtime's memory; an embedded store is small.
  startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=8MB'],
};

const migrationQueues = new WeakMap<PGlite, Promise<unknown>>();

/** Wraps an already open PGlite (tests share one instance between several handles). */
export async function wrapPglite(pglite: PGlite, spec: ConnectionSpec, description: string, close: () => Promise<void>): Promise<SqlDatabase> {
  const db = new Kysely<unknown>({ dialect: new PgliteDialect(pglite) });
  await sql`set timezone = 'UTC'`.execute(db);
  if (spec.schema) {
    await sql.raw(`create schema if not exists "${spec.schema}"; set search_path = "${spec.schema}"`).execute(db);
  }
  const channelName = schemaChannelName(spec.schema);
  const traits: EngineTraits = {
    driver: 'pglite',
    isRetryableTransactionError: (error) => ['40001', '40P01'].includes(String(errorCode(error))) || messageLooksRetryable(error),
    isUniqueViolation: (error) => errorCode(error) === '23505',
    withMigrationLock: (_db, _name, fn) => {
      // Handles sharing the instance share its one session, so a database-side lock would be re-entrant.
      const result = (migrationQueues.get(pglite) ?? Promise.resolve()).then(fn);
      migrationQueues.set(pglite, result.catch(() => undefined));
      return result;
    },
    notifications: {
      listen: async (channel, onPayload) => {
        const unlisten = await pglite.listen(channelName(channel), onPayload);
        return async () => {
          if (!pglite.closed) await unlisten();
        };
      },
      async notify(channel, payload, within = db) {
        await sql`select pg_notify(${channelName(channel)}, ${payload})`.execute(within);
      },
      channelName,
    },
    jsonColumnType: 'jsonb',
    supportsIndexIfNotExists: true,
    upsert: 'onConflict',
    // PGlite's API has no named statements.
    keepPrepared: () => undefined,
  };
  // In the process, nothing to reconnect: its listeners are never called.
  return databaseHandle({ db, description, engine: traits }, new ReconnectedListeners(), async () => {
    await db.destroy();
    await close();
  });
}
