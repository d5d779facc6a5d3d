import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyPgliteTemplate, ensurePgliteTemplate } from '../../runtime/store/engines/pglite-template.js';
import { openDatabase } from '../../runtime/store/sql-database.js';

/** The permission bits found under `directory`, as `dir 700` / `file 600`. */
async function modes(directory: string): Promise<Set<string>> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  const found = await Promise.all(entries.map(async (entry) => `${entry.isDirectory() ? 'dir' : 'file'} ${((await stat(join(entry.parentPath, entry.name))).mode & 0o777).toString(8)}`));
  return new Set(found);
}

describe('the PGlite data-directory template a new home starts from', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'argosync-template-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('is written once, owner-only, and copied into an empty data directory', async () => {
    const template = join(work, 'template.tar.gz');
    let initialised = 0;
    const initialise = async (dataDir: string) => {
      initialised += 1;
      await rm(dataDir, { recursive: true, force: true });
      await import('node:fs/promises').then((fs) => fs.mkdir(join(dataDir, 'base'), { recursive: true, mode: 0o755 }));
      await writeFile(join(dataDir, 'base', 'PG_VERSION'), '17\n', { mode: 0o644 });
    };
    expect(await ensurePgliteTemplate(initialise, template)).toBe(template);
    expect(await ensurePgliteTemplate(initialise, template)).toBe(template);
    expect(initialised).toBe(1);

    const dataDir = join(work, 'home', 'state');
    expect(await copyPgliteTemplate(dataDir, template)).toBe(true);
    expect(await modes(dataDir)).toEqual(new Set(['dir 700', 'file 600']));
    expect(await copyPgliteTemplate(join(work, 'other'), join(work, 'absent.tar.gz'))).toBe(false);
  });

  it('gives a new home a working embedded store whose files only their owner can read', async () => {
    const dataDir = join(work, 'new-home', 'state');
    const database = await openDatabase({ driver: 'pglite', dataDir });
    try {
      await sql`create table t (n int)`.execute(database.db);
      await sql`insert into t values (1)`.execute(database.db);
      expect((await sql<{ n: number }>`select n from t`.execute(database.db)).rows).toEqual([{ n: 1 }]);
    } finally {
      await database.destroy();
    }
    // initdb writes these group- and world-readable (PGlite's later writes are the home's start-up check's concern).
    for (const file of ['PG_VERSION', 'postgresql.conf', 'pg_hba.conf']) expect(((await stat(join(dataDir, file))).mode & 0o777).toString(8)).toBe('600');
  });
});
