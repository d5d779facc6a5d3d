import { connectionFailureReason } from './connection-failure.js';

/**
 * Argo's `reconnectionConfig` with its code defaults applied (SPEC §3): the delay before retry n is
 * `baseDelayMs × retryMultiple^(n-1)`, capped at `maxDelayMs`.
 */
export interface ReconnectionPolicy {
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly retryMultiple: number;
}

/** Argo's defaults: 5 retries, 100 ms doubling up to 30 s. */
export const DEFAULT_RECONNECTION_POLICY: ReconnectionPolicy = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 30_000, retryMultiple: 2 };

/** Where reconnection attempts (warn) and recoveries (info) are reported. */
export interface ReconnectionLog {
  warn(message: string): void;
  info(message: string): void;
}

export const silentReconnectionLog: ReconnectionLog = { warn: () => undefined, info: () => undefined };

/** The wait before retry `retry` (1 for the first retry). */
export function reconnectionDelayMs(policy: ReconnectionPolicy, retry: number): number {
  return Math.min(policy.baseDelayMs * policy.retryMultiple ** (retry - 1), policy.maxDelayMs);
}

export interface ReconnectOptions {
  readonly policy: ReconnectionPolicy;
  /** What is being attempted, as a log line starts: `re-listening on sync database postgresql at db:5432`. */
  readonly what: string;
  readonly log: ReconnectionLog;
  /**
   * Retries whatever the failure and past `maxRetries` (delays stay at `maxDelayMs`), until it succeeds or
   * `signal` aborts: for connections that must come back, such as a LISTEN connection.
   */
  readonly untilSucceeded?: boolean;
  /** Stops at once, even in the middle of a delay, rethrowing the last failure (the database is being closed). */
  readonly signal?: AbortSignal;
  /** Waits `ms` or until `signal` aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

/** Resolves after `ms`, or at once when `signal` aborts; never keeps a stopping process alive when `unref`. */
function defaultSleep(unref: boolean) {
  return (ms: number, signal: AbortSignal | undefined) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      if (unref) timer.unref();
      signal?.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
    });
}

/**
 * Runs `attempt` until it succeeds, retrying connection failures (only those, unless `untilSucceeded`) with
 * the policy's delays, each failed attempt logged at warn and a success after failures at info. Unless
 * `untilSucceeded`, gives up after `maxRetries` retries by rethrowing the last failure.
 */
export async function reconnect<T>(attempt: () => Promise<T>, options: ReconnectOptions): Promise<T> {
  const { policy, what, log, signal } = options;
  const forever = options.untilSucceeded ?? false;
  // A loop that runs for the process's whole life must not keep a stopping process alive; a start-up wait must.
  const sleep = options.sleep ?? defaultSleep(forever);
  const started = Date.now();
  for (let retry = 1; ; retry += 1) {
    try {
      const result = await attempt();
      if (retry > 1) log.info(`${what}: succeeded at attempt ${retry} after ${Date.now() - started} ms`);
      return result;
    } catch (error) {
      // A connection that must come back is retried whatever the failure (a restarting server may answer
      // anything); otherwise only an outage is worth waiting for, and a bad password fails at once.
      const reason = connectionFailureReason(error) ?? (forever ? (error as Error).message : undefined);
      if (reason === undefined || signal?.aborted) throw error;
      if (!forever && retry > policy.maxRetries) {
        log.warn(`${what}: attempt ${retry} failed (${reason}); giving up after ${policy.maxRetries} retries (reconnectionConfig.maxRetries)`);
        throw error;
      }
      const delay = reconnectionDelayMs(policy, retry);
      const of = forever ? '' : ` of ${policy.maxRetries + 1}`;
      log.warn(`${what}: attempt ${retry}${of} failed (${reason}); retrying in ${delay} ms`);
      await sleep(delay, signal);
      if (signal?.aborted) throw error;
    }
  }
}
