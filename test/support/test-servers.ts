/** What the vitest global set-up (`test/global-setup.ts`) hands to every test file (SPEC §10). */

/** The database servers the SQL suites need besides the embedded PGlite. */
export type ServerDriver = 'postgresql' | 'mysql';

/** Where a server is, or one sentence saying why there is none. */
export type ServerLocation = { readonly url: string } | { readonly missing: string };

export interface TestServers {
  readonly postgresql: ServerLocation;
  readonly mysql: ServerLocation;
}

/** The k3s cluster started for this run (an admin kubeconfig as YAML), or why there is none. */
export type K3sLocation = { readonly kubeconfig: string } | { readonly missing: string };

declare module 'vitest' {
  export interface ProvidedContext {
    testServers: TestServers;
    k3s: K3sLocation;
  }
}

export const SERVER_VARIABLES: Record<ServerDriver, string> = { postgresql: 'ARGOSYNC_TEST_POSTGRES', mysql: 'ARGOSYNC_TEST_MYSQL' };
export const DEFAULT_SERVER_URLS: Record<ServerDriver, string> = {
  postgresql: 'postgres://postgres@127.0.0.1:5432/test',
  mysql: 'mysql://root@127.0.0.1:3306/test',
};

/** The servers as configured, outside vitest (benches): the environment or the defaults, unchecked. */
export function configuredServers(environment: NodeJS.ProcessEnv): TestServers {
  const locate = (driver: ServerDriver) => ({ url: environment[SERVER_VARIABLES[driver]] ?? DEFAULT_SERVER_URLS[driver] });
  return { postgresql: locate('postgresql'), mysql: locate('mysql') };
}
