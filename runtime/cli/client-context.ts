import { Option, type Command } from 'commander';
import { ApiClient } from '../client/api-client.js';

/** Client settings every API command shares, read from the environment as SPEC §8 lists them. */
export function clientFromEnvironment(env: NodeJS.ProcessEnv = process.env): ApiClient {
  return new ApiClient({
    server: env.ARGOSYNC_SERVER || 'https://localhost:2746',
    baseHref: env.ARGOSYNC_BASE_HREF,
    token: env.ARGOSYNC_TOKEN,
    insecureSkipVerify: isTrue(env.ARGOSYNC_INSECURE_SKIP_VERIFY),
  });
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes'].includes(value.toLowerCase());
}

/** A usage mistake: printed with the command's help hint and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The global `-n/--namespace` as a subcommand sees it. */
export function namespaceOf(command: Command): string {
  return (command.optsWithGlobals() as { namespace?: string }).namespace ?? 'default';
}

/** `-o text|json`, which every client command takes. */
export const outputOption = (): Option => new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');

/** Runs `body` with a client that is closed afterwards. */
export async function withClient<T>(client: () => ApiClient, body: (api: ApiClient) => Promise<T>): Promise<T> {
  const api = client();
  try {
    return await body(api);
  } finally {
    await api.close();
  }
}
