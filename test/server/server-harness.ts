import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { insecureAgent } from '../support/runtime-api.js';
import type { Clock } from '../../runtime/clock.js';
import { startServer } from '../../runtime/server/app.js';
import type { RunningServer, ServerServices } from '../../runtime/server/app.js';
import { PolicyFileAuthorizer, policyFilePath } from '../../runtime/server/auth/policy-file-authorizer.js';
import { createLogger } from '../../runtime/server/logger.js';
import { resolveServerOptions } from '../../runtime/server/server-options.js';
import type { ServerOptions, ServerOptionsInput } from '../../runtime/server/server-options.js';

export interface TestResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json(): unknown;
}

export interface TestServer {
  readonly url: string;
  readonly options: ServerOptions;
  readonly running: RunningServer;
  readonly registry: Registry;
  /** Lines printed by startServer (must be exactly the "listening" line). */
  readonly printed: readonly string[];
  /** Every JSON log line the server wrote. */
  readonly logs: readonly string[];
  /** Sends a request to `url` + `path` (`path` without a leading slash is relative to the base href). */
  fetch(path: string, init?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<TestResponse>;
  close(): Promise<void>;
}

/** Trusts the server's self-signed certificate without checking it (tls.test.ts checks it). */

export async function temporaryHome(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'argosync-server-'));
}

/** Starts a real server on 127.0.0.1 on a free port with TLS on unless `input.secure` says otherwise. */
export async function startTestServer(
  input: ServerOptionsInput = {},
  services: Partial<ServerServices> & { clock?: Clock } = {},
): Promise<TestServer> {
  const home = input.home ?? (await temporaryHome());
  const options = resolveServerOptions({ port: 0, address: '127.0.0.1', authModes: ['server'], ...input, home, logFormat: 'json' });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const registry = services.metricsRegistry ?? new Registry();
  const printed: string[] = [];
  const running = await startServer(
    options,
    {
      authorizer: services.authorizer ?? (await PolicyFileAuthorizer.load(policyFilePath(home))),
      logger: createLogger({ format: 'json', destination: sink }),
      ...services,
      metricsRegistry: registry,
    },
    (line) => printed.push(line),
  );
  const origin = new URL(running.url).origin;
  return {
    url: running.url,
    options,
    running,
    registry,
    printed,
    logs,
    async fetch(path, init = {}) {
      const target = path.startsWith('/') ? `${origin}${path}` : `${running.url}${path}`;
      const response = await request(target, {
        method: (init.method ?? 'GET') as 'GET',
        headers: init.headers,
        body: init.body,
        dispatcher: insecureAgent,
      });
      const text = await response.body.text();
      return { status: response.statusCode, headers: response.headers, text, json: () => JSON.parse(text) as unknown };
    },
    close: () => running.close(),
  };
}
