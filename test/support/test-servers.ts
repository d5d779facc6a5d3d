import { openDatabase, parseDatabaseUrl } from '../../runtime/store/sql-database.js';

/** The database servers the SQL suites need besides the embedded PGlite. */
export type ServerDriver = 'postgresql' | 'mysql';

/** Where a server is, or one sentence saying why there is none. */
export type ServerLocation = { readonly url: string } | { readonly missing: string };

/** What the vitest global set-up hands to every test file (SPEC §10). */
export interface TestServers {
  readonly postgresql: ServerLocation;
  readonly mysql: ServerLocation;
}

declare module 'vitest' {
  export interface ProvidedContext {
    testServers: TestServers;
  }
}

export const SERVER_VARIABLES: Record<ServerDriver, string> = { postgresql: 'ARGOSYNC_TEST_POSTGRES', mysql: 'ARGOSYNC_TEST_MYSQL' };
export const DEFAULT_SERVER_URLS: Record<ServerDriver, string> = {
  postgresql: 'postgres://postgres@127.0.0.1:5432/test',
  mysql: 'mysql://root@127.0.0.1:3306/test',
};
const SERVER_NAMES: Record<ServerDriver, string> = { postgresql: 'PostgreSQL', mysql: 'MariaDB' };

/** Pinned images for the Docker path: the versions CI's local servers run. */
const IMAGES: Record<ServerDriver, string> = { postgresql: 'postgres:17-alpine', mysql: 'mariadb:11.8' };
const CONTAINER_PASSWORD = 'argosync-test';
/** testcontainers 12 needs Node 22; these run on the Node 20 the project supports. */
const TESTCONTAINERS = ['testcontainers@11.14.0', '@testcontainers/postgresql@11.14.0', '@testcontainers/mariadb@11.14.0'];

/** The servers as configured, outside vitest (benches): the environment or the defaults, unchecked. */
export function configuredServers(environment: NodeJS.ProcessEnv): TestServers {
  const locate = (driver: ServerDriver) => ({ url: environment[SERVER_VARIABLES[driver]] ?? DEFAULT_SERVER_URLS[driver] });
  return { postgresql: locate('postgresql'), mysql: locate('mysql') };
}

/**
 * Finds the servers for a test run: the configured ones (or those on the default ports) when they answer;
 * otherwise, when no variable names a server and a Docker engine is reachable, containers started through
 * testcontainers; otherwise a reason for each one missing. `stop` removes what was started.
 */
export async function findTestServers(environment: NodeJS.ProcessEnv): Promise<{ servers: TestServers; stop(): Promise<void> }> {
  const drivers: ServerDriver[] = ['postgresql', 'mysql'];
  const probes = await Promise.all(drivers.map((driver) => probe(environment, driver)));
  const located: Partial<Record<ServerDriver, ServerLocation>> = {};
  const unanswered: { driver: ServerDriver; failure: string }[] = [];
  drivers.forEach((driver, index) => {
    const { url, failure } = probes[index]!;
    if (failure === undefined) located[driver] = { url };
    else if (environment[SERVER_VARIABLES[driver]] !== undefined) located[driver] = { missing: `${failure} (${SERVER_VARIABLES[driver]} is set)` };
    else unanswered.push({ driver, failure });
  });

  const stops: (() => Promise<unknown>)[] = [];
  if (unanswered.length > 0) {
    const docker = await dockerEngine();
    for (const { driver, failure } of unanswered) {
      const unset = `${failure} (${SERVER_VARIABLES[driver]} is unset, so the default was tried)`;
      if ('missing' in docker) {
        located[driver] = { missing: `${unset}, and ${docker.missing}` };
        continue;
      }
      try {
        const started = await docker.start[driver]();
        stops.push(started.stop);
        located[driver] = { url: started.url };
      } catch (error) {
        located[driver] = { missing: `${unset}, and starting ${IMAGES[driver]} with testcontainers failed: ${(error as Error).message}` };
      }
    }
  }
  return {
    servers: { postgresql: located.postgresql!, mysql: located.mysql! },
    stop: async () => void (await Promise.all(stops.map((stop) => stop()))),
  };
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
    `reachable servers, or leave them unset with a Docker engine running and testcontainers installed (README, "Tests").`
  );
}

async function probe(environment: NodeJS.ProcessEnv, driver: ServerDriver): Promise<{ url: string; failure?: string }> {
  const url = environment[SERVER_VARIABLES[driver]] ?? DEFAULT_SERVER_URLS[driver];
  try {
    const database = await openDatabase({ ...parseDatabaseUrl(url), connectionTimeoutSeconds: 3 });
    await database.destroy();
    return { url };
  } catch (error) {
    return { url, failure: (error as Error).message };
  }
}

interface StartedServer {
  readonly url: string;
  stop(): Promise<unknown>;
}

interface DockerStarters {
  readonly start: Record<ServerDriver, () => Promise<StartedServer>>;
}

// The few testcontainers calls used here. The packages are optional: installing them runs ssh2's install script
// (a native build through node-gyp), which this project's dependencies avoid.
interface Container {
  getHost(): string;
  getMappedPort(port: number): number;
  stop(): Promise<unknown>;
}
interface ContainerBuilder {
  start(): Promise<Container>;
}
interface PostgresBuilder extends ContainerBuilder {
  withDatabase(name: string): PostgresBuilder;
  withUsername(name: string): PostgresBuilder;
  withPassword(password: string): PostgresBuilder;
}
interface MariaDbBuilder extends ContainerBuilder {
  withDatabase(name: string): MariaDbBuilder;
  withRootPassword(password: string): MariaDbBuilder;
}

async function dockerEngine(): Promise<DockerStarters | { missing: string }> {
  const load = (name: string) => import(name) as Promise<Record<string, unknown>>;
  let modules: Record<string, unknown>[];
  try {
    modules = await Promise.all(TESTCONTAINERS.map((pinned) => load(pinned.slice(0, pinned.lastIndexOf('@')))));
  } catch {
    return { missing: `testcontainers is not installed (npm install --no-save ${TESTCONTAINERS.join(' ')})` };
  }
  const [core, postgres, mariadb] = modules as [
    { getContainerRuntimeClient(): Promise<unknown> },
    { PostgreSqlContainer: new (image: string) => PostgresBuilder },
    { MariaDbContainer: new (image: string) => MariaDbBuilder },
  ];
  try {
    await core.getContainerRuntimeClient();
  } catch (error) {
    return { missing: `no Docker engine is reachable (${(error as Error).message})` };
  }
  const server = async (builder: ContainerBuilder, port: number, url: (address: string) => string): Promise<StartedServer> => {
    const container = await builder.start();
    return { url: url(`${container.getHost()}:${container.getMappedPort(port)}`), stop: () => container.stop() };
  };
  return {
    start: {
      postgresql: () =>
        server(
          new postgres.PostgreSqlContainer(IMAGES.postgresql).withDatabase('test').withUsername('postgres').withPassword(CONTAINER_PASSWORD),
          5432,
          (address) => `postgres://postgres:${CONTAINER_PASSWORD}@${address}/test`,
        ),
      mysql: () =>
        server(
          new mariadb.MariaDbContainer(IMAGES.mysql).withDatabase('test').withRootPassword(CONTAINER_PASSWORD),
          3306,
          (address) => `mysql://root:${CONTAINER_PASSWORD}@${address}/test`,
        ),
    },
  };
}
