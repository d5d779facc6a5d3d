import { describe, expect, it } from 'vitest';
import { describeSpec, openDatabase, parseDatabaseUrl } from '../../runtime/store/sql-database.js';
import { missingDatabase, testServer } from '../support/databases.js';

describe('parseDatabaseUrl', () => {
  it('reads PostgreSQL URLs with credentials, schema and sslmode', () => {
    expect(parseDatabaseUrl('postgres://argo:s%40cret@db.example:6543/argo?schema=team&sslmode=require')).toEqual({
      driver: 'postgresql',
      host: 'db.example',
      port: 6543,
      database: 'argo',
      user: 'argo',
      password: 's@cret',
      schema: 'team',
      ssl: true,
      sslMode: 'require',
    });
  });

  it('reads MySQL URLs and keeps extra parameters as DSN options', () => {
    expect(parseDatabaseUrl('mysql://root@127.0.0.1:3306/test?charset=utf8mb4')).toEqual({
      driver: 'mysql',
      host: '127.0.0.1',
      port: 3306,
      database: 'test',
      user: 'root',
      options: { charset: 'utf8mb4' },
    });
  });

  it('reads the embedded forms', () => {
    expect(parseDatabaseUrl('pglite:memory')).toEqual({ driver: 'pglite' });
    expect(parseDatabaseUrl('pglite:.argosync/state')).toEqual({ driver: 'pglite', dataDir: '.argosync/state' });
    expect(parseDatabaseUrl('pglite:///var/lib/argosync')).toEqual({ driver: 'pglite', dataDir: '/var/lib/argosync' });
  });

  it('rejects unknown schemes and garbage without echoing a password', () => {
    expect(() => parseDatabaseUrl('redis://localhost')).toThrow('unsupported database URL scheme "redis:": use postgres://, mysql:// or pglite:');
    expect(() => parseDatabaseUrl('not a url://u:hunter2@x')).toThrow('invalid database URL "not a url://u:***@x": expected postgres://, mysql:// or pglite:');
  });

  it('describes a spec without its password', () => {
    const description = describeSpec(parseDatabaseUrl('postgres://argo:hunter2@db:5432/argo'));
    expect(description).toBe('postgresql at db:5432/argo');
  });
});

describe('openDatabase', () => {
  it.each(['postgres://postgres@127.0.0.1:1/test', 'mysql://root@127.0.0.1:1/test'])('names the address and cause when %s is unreachable', async (url) => {
    const spec = parseDatabaseUrl(url);
    await expect(openDatabase(spec)).rejects.toThrow(`cannot connect to ${spec.driver} at 127.0.0.1:1: connection refused`);
  });

  it.skipIf(missingDatabase('mysql') !== undefined)('reports a wrong password without repeating it', async () => {
    const server = testServer('mysql');
    const error = await openDatabase({ ...server, user: 'nobody', password: 'hunter2' }).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(new RegExp(`^cannot connect to mysql at ${server.host}:${server.port}: authentication failed$`));
    expect((error as Error).message).not.toContain('hunter2');
  });
});
