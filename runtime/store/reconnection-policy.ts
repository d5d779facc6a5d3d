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
   * Retries until this returns true instead of stopping after `maxRetries` (delays stay at `maxDelayMs`):
   * for connections that must come back, such as a LISTEN connection.
   */
  readonly stopped?: () => boolean;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `attempt` until it succeeds, retrying connection failures (only those, unless `stopped` is given) with
 * the policy's delays, each failed attempt logged at warn and a success after failures at info. Without
 * `stopped`, gives up after `maxRetries` retries by rethrowing the last failure.
 */
export async function reconnect<T>(attempt: () => Promise<T>, options: ReconnectOptions): Promise<T> {
  const { policy, what, log } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const forever = options.stopped !== undefined;
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
      if (reason === undefined || options.stopped?.()) throw error;
      if (!forever && retry > policy.maxRetries) {
        log.warn(`${what}: attempt ${retry} failed (${reason}); giving up after ${policy.maxRetries} retries (reconnectionConfig.maxRetries)`);
        throw error;
      }
      const delay = reconnectionDelayMs(policy, retry);
      const of = forever ? '' : ` of ${policy.maxRetries + 1}`;
      log.warn(`${what}: attempt ${retry}${of} failed (${reason}); retrying in ${delay} ms`);
      await sleep(delay);
      if (options.stopped?.()) throw error;
    }
  }
}
