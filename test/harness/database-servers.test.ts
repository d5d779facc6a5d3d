import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNREACHABLE = { ARGOSYNC_TEST_POSTGRES: 'postgres://postgres@127.0.0.1:1/x', ARGOSYNC_TEST_MYSQL: 'mysql://root@127.0.0.1:1/x' };
const MISSING =
  'database suites skipped — PostgreSQL: cannot connect to postgresql at 127.0.0.1:1: connection refused (ARGOSYNC_TEST_POSTGRES is set); ' +
  'MariaDB: cannot connect to mysql at 127.0.0.1:1: connection refused (ARGOSYNC_TEST_MYSQL is set). To run them,';

/** `vitest run` of one small file that needs MariaDB, as a fresh machine would run it, in a process of its own. */
function runVitest(environment: Record<string, string>): Promise<{ code: number; output: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && !name.startsWith('ARGOSYNC_TEST_')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url)), 'run', 'test/store/sql-database.test.ts'],
      { cwd: ROOT, env: { ...inherited, ...environment, NO_COLOR: '1' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, output: stdout + stderr }),
    );
  });
}

describe('the test run on a machine without the database servers (SPEC §10)', () => {
  it('skips the database suites, saying in one line what is missing and how to provide it', async () => {
    const { code, output } = await runVitest(UNREACHABLE);
    expect(code, output).toBe(0);
    expect(output.split('\n').filter((line) => line.startsWith('database suites skipped'))).toEqual([expect.stringContaining(MISSING)]);
    expect(output).toMatch(/Tests\s+7 passed \| 1 skipped/);
  });

  it('fails instead with ARGOSYNC_TEST_REQUIRE_DATABASES=1', async () => {
    const { code, output } = await runVitest({ ...UNREACHABLE, ARGOSYNC_TEST_REQUIRE_DATABASES: '1' });
    expect(code, output).toBe(1);
    expect(output).toContain(`ARGOSYNC_TEST_REQUIRE_DATABASES=1 and ${MISSING}`);
    expect(output).not.toMatch(/Tests\s+\d+ passed/);
  });
});
