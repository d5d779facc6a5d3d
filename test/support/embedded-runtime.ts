import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll } from 'vitest';
import { startRuntime, type RunningRuntime } from '../../runtime/runtime-process.js';
import { policyFilePath } from '../../runtime/server/auth/policy-file-authorizer.js';
import type { ServerOptionsInput } from '../../runtime/server/server-options.js';
import type { TestDatabase } from './databases.js';

export interface EmbeddedRuntimeSetup {
  /** Configuration sections (Argo's keys) written to the home's config file. */
  readonly config?: Record<string, unknown>;
  /** The policy file's content (tokens and rules); the admin token is added at start. */
  readonly policy?: Record<string, unknown>;
  readonly server?: ServerOptionsInput;
}

/**
 * `argosync up`'s runtime in this process, on a fresh home, for the tests of one describe block: started before
 * them (after the hooks registered earlier, so `setup` may use their databases) and stopped and removed after.
 * The API rate limit is lifted: suites poll.
 */
export function embeddedRuntime(setup: () => EmbeddedRuntimeSetup = () => ({})): () => RunningRuntime {
  let home: string | undefined;
  let runtime: RunningRuntime | undefined;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'argosync-test-'));
    const { config, policy, server } = setup();
    const configFile = join(home, 'argosync.yaml');
    if (config) await writeFile(configFile, stringify(config));
    if (policy) await writeFile(policyFilePath(home), stringify(policy));
    runtime = await startRuntime({ home, ...(config ? { config: configFile } : {}) }, { port: 0, logFormat: 'json', apiRateLimit: '1000000', ...server }, () => undefined);
  });
  afterAll(async () => {
    await runtime?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });
  return () => runtime!;
}

/** A `persistence` section on a MariaDB test database, with Argo's table name. */
export function mysqlPersistence(database: TestDatabase, options: Record<string, unknown> = {}): Record<string, unknown> {
  const { host, port, database: name } = database.spec;
  return { ...options, mysql: { host, port, database: name, tableName: 'argo_workflows', userName: 'root' } };
}
