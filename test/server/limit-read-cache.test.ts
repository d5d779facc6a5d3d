import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseLimits } from '../../runtime/server/sync-limits/database-limits.js';
import { LimitReadCache } from '../../runtime/server/sync-limits/limit-read-cache.js';
import { DEFAULT_SYNC_TABLES, migrateSyncSchema } from '../../runtime/store/migrations/sync-migrations.js';
import type { SqlDatabase } from '../../runtime/store/sql-database.js';
import { SyncStore } from '../../runtime/store/sync/sync-store.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

describe('database limits read through the sole-writer cache (embedded PGlite)', () => {
  let database: TestDatabase;
  let handle: SqlDatabase;
  let limits: DatabaseLimits;
  // Changes the row behind the cache's back, which only another process could do on a real home: it shows what is served from memory.
  const setRow = (name: string, size: number) => sql`update sync_limit set sizelimit = ${size} where name = ${name}`.execute(handle.db);
  const read = async (key: string) => (await limits.get({ type: 'DATABASE', namespace: 'ns', key })).limit;

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    handle = await database.open();
    await migrateSyncSchema(handle);
    limits = new DatabaseLimits(new SyncStore(handle, DEFAULT_SYNC_TABLES).limits, undefined, new LimitReadCache());
  });
  afterAll(async () => {
    await database.drop();
  });

  it('serves a repeated read from memory and sees every write through it at once', async () => {
    await limits.create({ type: 'DATABASE', namespace: 'ns', key: 'gpu', limit: 2 });
    expect(await read('gpu')).toBe(2);
    await setRow('ns/gpu', 9);
    expect(await read('gpu')).toBe(2);
    await limits.update({ type: 'DATABASE', namespace: 'ns', key: 'gpu', limit: 3 }, async () => undefined);
    expect(await read('gpu')).toBe(3);
    await limits.delete({ type: 'DATABASE', namespace: 'ns', key: 'gpu' }, async () => undefined);
    await expect(read('gpu')).rejects.toThrow('Database sync limit not found in namespace "ns".');
    await limits.create({ type: 'DATABASE', namespace: 'ns', key: 'gpu', limit: 5 });
    expect(await read('gpu')).toBe(5);
  });

  it('keeps no missing key, so a limit created later is found', async () => {
    await expect(read('later')).rejects.toThrow('not found');
    await sql`insert into sync_limit (name, sizelimit) values ('ns/later', 4)`.execute(handle.db);
    expect(await read('later')).toBe(4);
  });
});

describe('LimitReadCache', () => {
  it('returns but does not keep a read that overlapped a write', async () => {
    const cache = new LimitReadCache();
    let finishLoad: (size: number) => void = () => undefined;
    const slowRead = cache.read('ns/a', () => new Promise((resolve) => (finishLoad = resolve)));
    await cache.write('ns/a', async () => undefined);
    finishLoad(1);
    expect(await slowRead).toBe(1);
    expect(await cache.read('ns/a', async () => 2)).toBe(2);
    expect(await cache.read('ns/a', async () => 3)).toBe(2);
  });

  it('forgets a row whose write failed', async () => {
    const cache = new LimitReadCache();
    await cache.read('ns/a', async () => 1);
    await expect(cache.write('ns/a', () => Promise.reject(new Error('unreachable')))).rejects.toThrow('unreachable');
    expect(await cache.read('ns/a', async () => 7)).toBe(7);
  });
});
