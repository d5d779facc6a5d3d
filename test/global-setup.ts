// vitest global set-up (SPEC §10): finds or starts the database servers once per run and hands their URLs, or
// the reason they are missing, to every test file. ARGOSYNC_TEST_REQUIRE_DATABASES=1 (CI) refuses to skip.
import type { TestProject } from 'vitest/node';
import { writePgliteTemplate } from '../runtime/store/engines/pglite.js';
import { findTestServers, missingServersLine } from './support/test-servers.js';

let stopServers: (() => Promise<void>) | undefined;

export async function setup(project: TestProject): Promise<void> {
  // `npm run build` writes it; a fresh checkout tested without a build writes it here, once, for every suite.
  await writePgliteTemplate();
  const { servers, stop } = await findTestServers(process.env);
  stopServers = stop;
  const missing = missingServersLine(servers);
  if (missing && process.env.ARGOSYNC_TEST_REQUIRE_DATABASES === '1') {
    await stop();
    throw new Error(`ARGOSYNC_TEST_REQUIRE_DATABASES=1 and ${missing}`);
  }
  if (missing) console.warn(missing);
  project.provide('testServers', servers);
}

export async function teardown(): Promise<void> {
  await stopServers?.();
}
