import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRuntimeConfig } from '../../runtime/config/runtime-config.js';
import { openDatabase, parseDatabaseUrl, type SqlDatabase } from '../../runtime/store/sql-database.js';
import { isSqlIdentifier } from '../../runtime/store/sql-identifier.js';
import { createTestDatabase, describeEachDatabase, describeOn, testServer, type TestDatabase } from '../support/databases.js';

/** Names the configuration might be given: identifier-like (upper case included), reserved words, and anything. */
const candidateNames = fc.oneof(
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,70}$/),
  fc.constantFrom('order', 'user', 'select', 'table', 'group', 'window', 'rank', 'sync_limit', 'Sync_Limit', '_', 'a1'),
  fc.string({ maxLength: 70 }),
);

describe('configured SQL identifiers are refused at the edge unless quoted and unquoted use agree', () => {
  it.each([
    ['Sync_Limit', 'upper case folds unquoted on PostgreSQL'],
    ['sync-limit', 'a dash'],
    ['1limit', 'a leading digit'],
    ['a'.repeat(64), '64 characters'],
    ['order', 'a reserved word'],
    ['user', 'a reserved word'],
    ['sync limit', 'a space'],
    ['"x"', 'quotes'],
    ['limité', 'a non-ASCII letter'],
  ])('refuses %j as a table name (%s), naming the key and the rule', (name) => {
    for (const key of ['limitTableName', 'stateTableName', 'controllerTableName', 'lockTableName']) {
      expect(() => parseRuntimeConfig({ synchronization: { [key]: name } })).toThrow(`synchronization.${key}: must be a lower-case SQL identifier`);
    }
    expect(() => parseRuntimeConfig({ persistence: { tableName: name } })).toThrow('persistence.tableName: must be a lower-case SQL identifier');
    expect(() => parseDatabaseUrl(`postgres://u@db/argo?schema=${encodeURIComponent(name)}`)).toThrow(/schema .* must be a lower-case SQL identifier/);
  });

  it('accepts lower-case names up to 63 characters; the offload table up to 60, so its index `<name>_i1` fits', () => {
    expect(parseRuntimeConfig({ synchronization: { limitTableName: `l${'a'.repeat(62)}` } }).synchronization.limitTableName).toHaveLength(63);
    const offload = (tableName: string) => ({ persistence: { postgresql: { host: 'db', database: 'argo', tableName } } });
    expect(JSON.stringify(parseRuntimeConfig(offload(`w${'a'.repeat(59)}`)).persistence)).toContain(`w${'a'.repeat(59)}`);
    expect(() => parseRuntimeConfig(offload(`w${'a'.repeat(60)}`))).toThrow('persistence.postgresql.tableName: must NOT have more than 60 characters');
    expect(parseDatabaseUrl('postgres://u@db/argo?schema=team_a').schema).toBe('team_a');
  });

  it('accepts exactly the names the format check accepts (fast-check)', () => {
    fc.assert(
      fc.property(candidateNames, (name) => {
        let accepted = true;
        try {
          parseRuntimeConfig({ synchronization: { limitTableName: name } });
        } catch {
          accepted = false;
        }
        expect(accepted).toBe(isSqlIdentifier(name));
      }),
    );
  });
});

describeEachDatabase(['postgresql', 'mysql'] as const)('every accepted table name is one table quoted and unquoted on %s (fast-check)', (driver) => {
  let database: TestDatabase;
  let handle: SqlDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(driver);
    handle = await database.open();
  });
  afterAll(() => database?.drop());

  it('kysely (quoted) writes the row the unquoted SQL of migrations and functions reads', async () => {
    await fc.assert(
      fc.asyncProperty(candidateNames.filter(isSqlIdentifier), async (name) => {
        const db = handle.db.withoutPlugins();
        await db.schema.createTable(name).addColumn('x', 'integer').execute();
        try {
          await db.insertInto(name).values({ x: 7 }).execute();
          const unquoted = await sql.raw<{ x: number }>(`select x from ${name}`).execute(db);
          expect(unquoted.rows).toEqual([{ x: 7 }]);
        } finally {
          await db.schema.dropTable(name).execute();
        }
      }),
      { numRuns: 40 },
    );
  });
});

describeOn('postgresql')('every accepted ?schema= is one schema quoted and unquoted on PostgreSQL (fast-check)', () => {
  it('the schema created (quoted) is the one search_path (unquoted) selects', async () => {
    const server = testServer('postgresql');
    await fc.assert(
      fc.asyncProperty(candidateNames.filter(isSqlIdentifier), async (name) => {
        const schema = `t_${name}`.slice(0, 63);
        const database = await openDatabase({ ...server, schema });
        try {
          await sql.raw('create table probe (x integer)').execute(database.db);
          const found = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(`${schema}.probe`)}`.execute(database.db);
          expect(found.rows).toEqual([{ n: 0 }]);
        } finally {
          await sql.raw(`drop schema if exists "${schema}" cascade`).execute(database.db);
          await database.destroy();
        }
      }),
      { numRuns: 10 },
    );
  });
});
