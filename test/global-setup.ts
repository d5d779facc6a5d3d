// vitest global set-up (SPEC §10): finds or starts the database servers, and k3s where Docker allows, once per
// run, and hands their addresses, or the reason they are missing, to every test file.
// ARGOSYNC_TEST_REQUIRE_DATABASES=1 (CI) refuses to skip the database suites.
import type { TestProject } from 'vitest/node';
import { writePgliteTemplate } from '../runtime/store/engines/pglite.js';
import { dockerMissing, findTestServers, k3sSkippedLine, missingServersLine, startK3s } from './support/start-test-servers.js';

const stops: (() => Promise<void>)[] = [];

export async function setup(project: TestProject): Promise<void> {
  // `npm run build` writes it; a fresh checkout tested without a build writes it here, once, for every suite.
  await writePgliteTemplate();
  const docker = await dockerMissing();
  const [servers, k3s] = await Promise.all([findTestServers(process.env, docker), startK3s(process.env, docker)]);
  stops.push(servers.stop, k3s.stop);
  const missing = missingServersLine(servers.found);
  if (missing && process.env.ARGOSYNC_TEST_REQUIRE_DATABASES === '1') {
    await teardown();
    throw new Error(`ARGOSYNC_TEST_REQUIRE_DATABASES=1 and ${missing}`);
  }
  if (missing) console.warn(missing);
  if ('missing' in k3s.found) console.warn(k3sSkippedLine(k3s.found.missing));
  project.provide('testServers', servers.found);
  project.provide('k3s', k3s.found);
}

export async function teardown(): Promise<void> {
  await Promise.all(stops.splice(0).map((stop) => stop()));
}
