import { Command, Option } from 'commander';
import type { RuntimeRole } from '../runtime-process.js';
import type { RuntimeFlags } from '../runtime-context.js';
import { withYoungGenerationHeld } from '../young-generation.js';

// The runtime's modules (databases, server, controller) load only when a runtime command runs: client commands
// (`argosync sync list`) do not pay for them, and `up` loads them while its young generation is held.

interface ServeFlags extends RuntimeFlags {
  readonly port: string;
  readonly address: string;
  readonly secure: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly authMode: string[];
  readonly baseHref?: string;
  readonly apiRateLimit?: string;
  readonly apiRateLimitWindow?: string;
  readonly rateLimitKeyHeaders?: string;
  readonly trustedProxies?: string;
  readonly allowedHosts?: string;
  readonly maxConnectionsPerIp?: string;
  readonly logFormat: string;
  readonly loglevel: string;
}

const runtimeOptions = (command: Command): Command =>
  command
    .option('--home <dir>', 'data directory (default $ARGOSYNC_HOME or ./.argosync)')
    .option('--config <file>', 'configuration file (Argo workflow-controller-configmap sections)')
    .option('--state-store <url>', 'state store: postgres://, mysql:// or pglite:<dir> (default: $ARGOSYNC_STATE_STORE, else embedded in the home)')
    .option('--state-store-file <file>', 'file whose first line is the state-store URL (keeps its password off the command line)')
    .option('--controller-name <name>', 'name of this controller in the sync database');

const ROLES: readonly { name: string; role: RuntimeRole; description: string; address: string }[] = [
  { name: 'up', role: 'all', description: 'run the embedded runtime: controller, API server, UI and embedded database in one process', address: '127.0.0.1' },
  { name: 'server', role: 'server', description: 'run the API server and UI (no controller)', address: '0.0.0.0' },
  { name: 'controller', role: 'controller', description: 'run the controller (synchronization engine) with its health and metrics endpoints', address: '0.0.0.0' },
];

/** A command that runs a runtime role until SIGINT or SIGTERM. */
function serveCommand(definition: (typeof ROLES)[number], say: (line: string) => void): Command {
  return runtimeOptions(new Command(definition.name).description(definition.description))
    .option('--port <port>', 'port to listen on', '2746')
    .option('--address <address>', 'address to listen on', definition.address)
    .option('--secure <bool>', 'serve HTTPS with a generated or given certificate', 'true')
    .option('--tls-cert <file>', 'PEM certificate to serve')
    .option('--tls-key <file>', 'PEM key of --tls-cert')
    .option('--auth-mode <mode...>', 'server, client or sso (repeatable)', ['client'])
    .option('--base-href <path>', 'path prefix the server is reached under', process.env.ARGOSYNC_BASE_HREF)
    .option('--api-rate-limit <n>', 'requests per window per client')
    .option('--api-rate-limit-window <duration>', 'rate limit window, e.g. 1m or 1s')
    .option('--rate-limit-key-headers <headers>', 'comma-separated headers that key the rate limit (believed only from --trusted-proxies)')
    .option('--trusted-proxies <addresses>', 'comma-separated IPs of the proxies in front: only their X-Forwarded-* and rate-limit key headers are believed')
    .option('--allowed-hosts <hosts>', 'comma-separated Host names of this server: a loopback server also answers them (besides localhost, 127.0.0.1, [::1]); browser changes and the SSO callback URL are accepted only on them')
    .option('--max-connections-per-ip <n>', 'open connections one client address may hold')
    .option('--log-format <format>', 'text or json', 'text')
    .option('--loglevel <level>', 'debug, info, warn or error: the least severe log lines written', 'info')
    .addOption(new Option('--executor <executor>', 'how workflow nodes run: local processes or Kubernetes Pods').choices(['local', 'kubernetes']))
    .action(async (flags: ServeFlags, command: Command) => {
      // A flag left at its default does not hide the config file's `server` section (SPEC §3): only flags given count.
      const given = (name: 'port' | 'address' | 'secure' | 'authMode') => command.getOptionValueSource(name) !== 'default';
      const runtime = await withYoungGenerationHeld(async () =>
        (await import('../runtime-process.js')).startRuntime(
          flags,
          {
            ...(given('port') ? { port: flags.port } : {}),
            ...(given('address') ? { address: flags.address } : {}),
            ...(given('secure') ? { secure: flags.secure } : {}),
            ...(given('authMode') ? { authModes: flags.authMode } : {}),
            logFormat: flags.logFormat,
            logLevel: flags.loglevel,
            ...(flags.tlsCert ? { tlsCert: flags.tlsCert } : {}),
            ...(flags.tlsKey ? { tlsKey: flags.tlsKey } : {}),
            ...(flags.baseHref ? { baseHref: flags.baseHref } : {}),
            ...(flags.apiRateLimit ? { apiRateLimit: flags.apiRateLimit } : {}),
            ...(flags.apiRateLimitWindow ? { apiRateLimitWindow: flags.apiRateLimitWindow } : {}),
            ...(flags.rateLimitKeyHeaders ? { rateLimitKeyHeaders: [flags.rateLimitKeyHeaders] } : {}),
            ...(flags.trustedProxies ? { trustedProxies: [flags.trustedProxies] } : {}),
            ...(flags.allowedHosts ? { allowedHosts: [flags.allowedHosts] } : {}),
            ...(flags.maxConnectionsPerIp ? { maxConnectionsPerIp: flags.maxConnectionsPerIp } : {}),
          },
          say,
          definition.role,
        ),
      );
      if (runtime.token) {
        say(process.env.ARGOSYNC_ADMIN_TOKEN ? 'admin token: the value of ARGOSYNC_ADMIN_TOKEN (not printed)' : `admin token (shown once; also set ARGOSYNC_ADMIN_TOKEN to fix it): ${runtime.token}`);
      }
      say(`data directory: ${runtime.context.home}`);
      if (definition.role !== 'controller') {
        say(`try it: ARGOSYNC_SERVER=${runtime.url.replace(/\/$/, '')} ARGOSYNC_TOKEN=<token> ARGOSYNC_INSECURE_SKIP_VERIFY=true npx argosync sync list`);
      }
      await new Promise<void>((done) => {
        const shutdown = () => {
          say('shutting down');
          done();
        };
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
      });
      await runtime.stop();
    });
}

/** `argosync up`, `server` and `controller`, and `argosync migrate`. */
export function runtimeCommands(say: (line: string) => void): Command[] {
  const migrate = runtimeOptions(new Command('migrate').description('create or upgrade the state store, sync and persistence schemas, then exit')).action(async (flags: RuntimeFlags) => {
    const [{ openRuntime }, { migrateSyncSchema }, { migratePersistenceSchema }] = await Promise.all([
      import('../runtime-context.js'),
      import('../store/migrations/sync-migrations.js'),
      import('../store/migrations/persistence-migrations.js'),
    ]);
    const runtime = await openRuntime(flags, say);
    try {
      say(`state store: argosync schema ready`);
      const { synchronization, persistence } = runtime.config;
      if (!synchronization.skipMigration) say(`sync database: sync_schema_history at version ${await migrateSyncSchema(runtime.syncDatabase, synchronization)}`);
      if (runtime.persistenceDatabase && !persistence.skipMigration) {
        const version = await migratePersistenceSchema(runtime.persistenceDatabase, { tableName: persistence.tableName ?? 'argo_workflows' });
        say(`persistence database: schema_history at version ${version}`);
      }
    } finally {
      await runtime.close();
    }
  });
  return [...ROLES.map((definition) => serveCommand(definition, say)), migrate];
}
