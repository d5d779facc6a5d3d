// The vitest global set-up's side of SPEC §10: finds the database servers, or starts them and k3s in Docker
// through testcontainers. Only the global set-up imports this; test files read what it found with `inject`.
import { setTimeout as sleep } from 'node:timers/promises';
import { K3sContainer, type StartedK3sContainer } from '@testcontainers/k3s';
import { MariaDbContainer } from '@testcontainers/mariadb';
import { PostgreSqlContainer } from '@testcontainers/postgresql';
import { getContainerRuntimeClient } from 'testcontainers';
import { openDatabase, parseDatabaseUrl } from '../../runtime/store/sql-database.js';
import { DEFAULT_SERVER_URLS, SERVER_VARIABLES, type K3sLocation, type ServerDriver, type ServerLocation, type TestServers } from './test-servers.js';

const SERVER_NAMES: Record<ServerDriver, string> = { postgresql: 'PostgreSQL', mysql: 'MariaDB' };

/** Pinned images for the Docker path: the versions CI's local servers run, and a current k3s. */
const IMAGES = { postgresql: 'postgres:17-alpine', mysql: 'mariadb:11.8', k3s: 'rancher/k3s:v1.32.3-k3s1' } as const;
const CONTAINER_PASSWORD = 'argosync-test';

/** What the set-up started, and how to remove it. */
interface Started<T> {
  readonly found: T;
  stop(): Promise<void>;
}

/** Undefined when testcontainers reaches a Docker engine; otherwise why not, as a clause. */
export async function dockerMissing(): Promise<string | undefined> {
  try {
    await getContainerRuntimeClient();
    return undefined;
  } catch (error) {
    return `no Docker engine is reachable (${(error as Error).message})`;
  }
}

/**
 * Finds the servers for a test run: the configured ones (or those on the default ports) when they answer;
 * otherwise, when no variable names a server and a Docker engine is reachable (`docker` undefined),
 * containers started through testcontainers; otherwise a reason for each one missing.
 */
export async function findTestServers(environment: NodeJS.ProcessEnv, docker: string | undefined): Promise<Started<TestServers>> {
  const stops: (() => Promise<unknown>)[] = [];
  const locate = async (driver: ServerDriver): Promise<ServerLocation> => {
    const url = environment[SERVER_VARIABLES[driver]] ?? DEFAULT_SERVER_URLS[driver];
    const failure = await probe(url);
    if (failure === undefined) return { url };
    if (environment[SERVER_VARIABLES[driver]] !== undefined) return { missing: `${failure} (${SERVER_VARIABLES[driver]} is set)` };
    const unset = `${failure} (${SERVER_VARIABLES[driver]} is unset, so the default was tried)`;
    if (docker !== undefined) return { missing: `${unset}, and ${docker}` };
    try {
      const started = await startServer(driver);
      stops.push(started.stop);
      return { url: started.found };
    } catch (error) {
      return { missing: `${unset}, and starting ${IMAGES[driver]} with testcontainers failed: ${(error as Error).message}` };
    }
  };
  const [postgresql, mysql] = await Promise.all([locate('postgresql'), locate('mysql')]);
  return { found: { postgresql, mysql }, stop: async () => void (await Promise.all(stops.map((stop) => stop()))) };
}

/** One line naming every missing server and how to provide it, or undefined when none is missing. */
export function missingServersLine(servers: TestServers): string | undefined {
  const missing = (['postgresql', 'mysql'] as const).flatMap((driver) => {
    const location = servers[driver];
    return 'missing' in location ? [`${SERVER_NAMES[driver]}: ${location.missing}`] : [];
  });
  if (missing.length === 0) return undefined;
  return (
    `database suites skipped — ${missing.join('; ')}. To run them, point ARGOSYNC_TEST_POSTGRES / ARGOSYNC_TEST_MYSQL at ` +
    `reachable servers, or leave them unset with a Docker engine running (README, "Tests").`
  );
}

/**
 * Starts k3s once for the run when a Docker engine is reachable and ARGOSYNC_TEST_K3S is not `0`, so the
 * Kubernetes suites also run against a real API server; otherwise says why not.
 */
export async function startK3s(environment: NodeJS.ProcessEnv, docker: string | undefined): Promise<Started<K3sLocation>> {
  const none = async () => undefined;
  if (environment.ARGOSYNC_TEST_K3S === '0') return { found: { missing: 'ARGOSYNC_TEST_K3S=0 turns them off' }, stop: none };
  if (docker !== undefined) return { found: { missing: `${docker}; start one to run them on k3s too` }, stop: none };
  let container: StartedK3sContainer | undefined;
  try {
    container = await new K3sContainer(IMAGES.k3s).start();
    await keepPodsUnscheduled(container);
    const started = container;
    return { found: { kubeconfig: started.getKubeConfig() }, stop: async () => void (await started.stop()) };
  } catch (error) {
    await container?.stop();
    return { found: { missing: `starting ${IMAGES.k3s} with testcontainers failed: ${(error as Error).message}` }, stop: none };
  }
}

/** The one line a run prints when the k3s variants of the Kubernetes suites skip. */
export function k3sSkippedLine(missing: string): string {
  return `k3s suites skipped: ${missing}. The Kubernetes suites ran against the in-process API server only (README, "Tests").`;
}

/**
 * No suite runs containers on the cluster: with its node tainted, Pods stay unscheduled and the executor
 * tests play the kubelet by writing Pod status, as they do on the in-process server.
 */
async function keepPodsUnscheduled(container: StartedK3sContainer): Promise<void> {
  // The node registers shortly after the API server is up.
  for (let attempt = 1; ; attempt++) {
    const result = await container.exec(['kubectl', 'taint', 'nodes', '--all', 'argosync.test/no-kubelet=:NoSchedule']);
    if (result.exitCode === 0 && result.output.includes('tainted')) return;
    if (attempt === 60) throw new Error(`kubectl taint nodes: ${result.output.trim()}`);
    await sleep(1_000);
  }
}

async function probe(url: string): Promise<string | undefined> {
  try {
    const database = await openDatabase({ ...parseDatabaseUrl(url), connectionTimeoutSeconds: 3 });
    await database.destroy();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

async function startServer(driver: ServerDriver): Promise<Started<string>> {
  if (driver === 'postgresql') {
    const container = await new PostgreSqlContainer(IMAGES.postgresql).withDatabase('test').withUsername('postgres').withPassword(CONTAINER_PASSWORD).start();
    return { found: `postgres://postgres:${CONTAINER_PASSWORD}@${container.getHost()}:${container.getPort()}/test`, stop: async () => void (await container.stop()) };
  }
  const container = await new MariaDbContainer(IMAGES.mysql).withDatabase('test').withRootPassword(CONTAINER_PASSWORD).start();
  return { found: `mysql://root:${CONTAINER_PASSWORD}@${container.getHost()}:${container.getPort()}/test`, stop: async () => void (await container.stop()) };
}
