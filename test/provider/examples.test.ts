import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { sql } from 'kysely';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../runtime/store/sql-database.js';
import { describeOn, testServer } from '../support/databases.js';
import { embeddedRuntime } from '../support/embedded-runtime.js';
import { EngineHarness, secret, urnOf } from '../support/engine-harness.js';
import { runtimeApi } from '../support/runtime-api.js';
import { loadYamlProgram, ProviderPool, runYamlProgram, type ProgramRun } from '../support/yaml-program.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const programDirectories = readdirSync(EXAMPLES).filter((name) => existsSync(`${EXAMPLES}${name}/Pulumi.yaml`));
const runtimeOf = (directory: string) => (parse(readFileSync(`${directory}/Pulumi.yaml`, 'utf8')) as { runtime: string | { name: string } }).runtime;
const yamlPrograms = [ROOT, ...programDirectories.map((name) => `${EXAMPLES}${name}`)].filter((directory) => runtimeOf(directory) === 'yaml');
const typescriptPrograms = programDirectories.map((name) => `${EXAMPLES}${name}`).filter((directory) => runtimeOf(directory) !== 'yaml');

/** Both runtimes share one admin token, which the explicit providers of the examples read from ARGOSYNC_TOKEN. */
const TOKEN = randomBytes(16).toString('hex');
process.env.ARGOSYNC_ADMIN_TOKEN = TOKEN;
const launch = () => EngineHarness.launch({ ARGOSYNC_TOKEN: TOKEN, ARGOSYNC_INSECURE_SKIP_VERIFY: 'true' });

describe('the TypeScript examples', () => {
  it('finds the programs: the root Pulumi.yaml, the YAML examples and the TypeScript one', () => {
    expect(yamlPrograms.length).toBeGreaterThanOrEqual(4);
    expect(typescriptPrograms.map((directory) => directory.split('/').pop())).toEqual(['team-limits-ts']);
  });

  it.each(typescriptPrograms)('runs %s and passes Check for each resource it registers', async (directory) => {
    const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call: (args) => args.inputs,
      },
      'examples',
      'test',
      false,
    );
    const program = (await import(`${directory}/index.ts`)) as Record<string, unknown>;
    await new Promise((resolve) => pulumi.output(program).apply(resolve));
    expect(registered.map((resource) => resource.type)).toContain('argosync:index:SemaphoreLimit');
    const engine = await launch();
    try {
      await engine.configure({ namespace: 'team-a' });
      for (const resource of registered) {
        expect((await engine.check(urnOf(resource.type, resource.name), resource.inputs as never)).failures, resource.name).toEqual([]);
      }
    } finally {
      await engine.close();
    }
  });
});

describeOn('postgresql')('the YAML programs (root Pulumi.yaml and examples/) through preview, up and destroy against running runtimes', () => {
  const clusterA = embeddedRuntime();
  const clusterB = embeddedRuntime();
  const api = runtimeApi(clusterA);
  const server = () => testServer('postgresql');
  const dbName = `t_${randomBytes(6).toString('hex')}`;
  const otherDbName = `${dbName}_b`;
  const onServer = async (statement: string) => {
    const database = await openDatabase(server());
    await sql.raw(statement).execute(database.db).finally(() => database.destroy());
  };
  // The examples' database and endpoints are stack config: here, a database of its own on the test PostgreSQL.
  const stack = () => ({
    'argosync:endpoint': clusterA().url,
    'argosync:token': secret(TOKEN),
    clusterAEndpoint: clusterA().url,
    clusterBEndpoint: clusterB().url,
    dbHost: server().host!,
    dbName,
    dbUser: server().user ?? 'postgres',
    dbPassword: 'unused-with-trust-auth',
    dbSsl: false,
  });
  beforeAll(async () => {
    for (const name of [dbName, otherDbName]) await onServer(`create database ${name}`);
  });
  afterAll(async () => {
    for (const name of [dbName, otherDbName]) await onServer(`drop database if exists ${name} with (force)`);
  });

  /** What each program leaves on the runtimes after its up, beyond every resource having an id. */
  const expectations: Record<string, (run: ProgramRun, pool: ProviderPool) => Promise<void>> = {
    'offload-archive': async (run, pool) => {
      // No controllerName in the program: the runtime's default, the host name, applies.
      expect(run.resources.get('sync')?.outputs).toMatchObject({ controllerName: hostname(), schemaVersion: 10 });
      expect(run.outputs.controllers).toEqual([expect.objectContaining({ name: hostname() })]);
      expect((await api('GET', '/config/persistence')).json).toMatchObject({ useSyncDatabase: true, nodeStatusOffLoad: true, schemaVersion: 68 });
      // Another database for the stack: the sync database moves, and persistence (useSyncDatabase) with it.
      const moved = await runYamlProgram(loadYamlProgram(`${EXAMPLES}offload-archive/Pulumi.yaml`), { ...stack(), dbName: otherDbName }, false, pool);
      expect(moved.resources.get('sync')?.outputs).toMatchObject({ database: otherDbName });
      const other = await openDatabase({ ...server(), database: otherDbName });
      const tables = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(other.db).finally(() => other.destroy());
      expect(tables.rows.map((row) => row.name)).toEqual(expect.arrayContaining(['sync_limit', 'argo_workflows', 'argo_archived_workflows']));
    },
    'shared-database': async (run) => {
      expect(run.resources.get('trainingSlots')?.id).toBe('database/team-a/training');
      // The limit made through cluster A is the one cluster B reads: one row of the shared sync_limit.
      expect((await runtimeApi(clusterB)('GET', '/sync/team-a/training?type=1')).json).toMatchObject({ limit: 8 });
      expect((await runtimeApi(clusterB)('GET', '/config/synchronization')).json).toMatchObject({ controllerName: 'cluster-b' });
    },
  };

  it.each(yamlPrograms)('%s', async (directory) => {
    const program = loadYamlProgram(`${directory}/Pulumi.yaml`);
    const pool = new ProviderPool(launch);
    try {
      // Preview: CheckConfig, Configure, then Check and a preview Create per resource; nothing reaches a runtime.
      const preview = await runYamlProgram(program, stack(), true, pool);
      expect(preview.resources.size).toBe(Object.keys(program.resources).length);
      expect((await api('GET', '/sync/team-a')).json).toMatchObject({ items: [] });

      const run = await runYamlProgram(program, stack(), false, pool);
      for (const [name, entry] of run.resources) expect(entry.id, name).not.toBe('');
      for (const [name, value] of Object.entries(run.outputs)) expect(value, name).not.toBeNull();
      await expectations[program.name]?.(run, pool);
      await run.destroy();
      expect((await api('GET', '/sync/team-a')).json).toMatchObject({ items: [] });
    } finally {
      await pool.close();
    }
  });
});
