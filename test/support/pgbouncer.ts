import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionSpec } from '../../runtime/store/connection-spec.js';
import { freePorts } from './openid-provider.js';

/** Debian's PgBouncer, which `.ci/run` installs; suites that need it skip with this message when it is missing. */
export const PGBOUNCER = process.env.ARGOSYNC_PGBOUNCER ?? '/usr/sbin/pgbouncer';
export const PGBOUNCER_MISSING = existsSync(PGBOUNCER) ? undefined : `no PgBouncer at ${PGBOUNCER}: install Debian's pgbouncer package (or set ARGOSYNC_PGBOUNCER)`;

export interface RunningPgBouncer {
  /** `server` as reached through PgBouncer: same database and user, PgBouncer's address. */
  readonly spec: ConnectionSpec;
  stop(): Promise<void>;
}

/**
 * PgBouncer in transaction pooling in front of a PostgreSQL server, passing every database through: each
 * transaction may run on another server session, as in many production set-ups. It ignores the `options`
 * startup parameter (search_path, timezone), so give it a whole database (createWholeDatabase), not a schema.
 */
export async function startPgBouncer(server: ConnectionSpec): Promise<RunningPgBouncer> {
  const [port] = await freePorts(1);
  const user = server.user ?? 'postgres';
  const folder = await mkdtemp(join(tmpdir(), 'argosync-pgbouncer-'));
  // Started by root, PgBouncer drops to `postgres`, which must still read its files (they hold no secret
  // beyond the test server's own password).
  await chmod(folder, 0o755);
  const users = join(folder, 'users.txt');
  const ini = join(folder, 'pgbouncer.ini');
  await writeFile(users, `"${user}" ""\n`, { mode: 0o644 });
  const target = [`host=${server.host ?? '127.0.0.1'}`, `port=${server.port ?? 5432}`, `user=${user}`, ...(server.password ? [`password=${server.password}`] : [])].join(' ');
  await writeFile(
    ini,
    [
      '[databases]',
      `* = ${target}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${users}`,
      'pool_mode = transaction',
      'default_pool_size = 4',
      'ignore_startup_parameters = extra_float_digits,options',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const child = spawn(PGBOUNCER, [...(process.getuid?.() === 0 ? ['-u', 'postgres'] : []), ini], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('process up')) resolve();
    });
    void exited.then(() => reject(new Error(`PgBouncer exited before it was up: ${log.trim()}`)));
  });
  return {
    spec: { ...server, host: '127.0.0.1', port, user },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(folder, { recursive: true, force: true });
    },
  };
}
