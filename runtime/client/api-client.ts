import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';

/** Where and how to reach an argosync API server (CLI: ARGOSYNC_* env; provider: its config). */
export interface ApiClientOptions {
  /** e.g. `https://localhost:2746`; a base href may be part of it or given separately. */
  readonly server: string;
  readonly baseHref?: string;
  /** A bare token, or a whole `Authorization` value such as an SSO session `Bearer v2:…`. */
  readonly token?: string;
  readonly insecureSkipVerify?: boolean;
  /** PEM of a CA to trust in addition to the system's. */
  readonly caCertificate?: string;
  readonly requestTimeoutSeconds?: number;
  /** How often a 429, a 503 (the server's database is unavailable) or a transient network error is retried before giving up. */
  readonly maxRetries?: number;
  /** Aborts requests in flight and waits before retries (the provider's Cancel). */
  readonly signal?: AbortSignal;
}

/**
 * The `Authorization` value for a token: a bare token is sent as `Bearer <token>`; one that already names its
 * scheme, as Argo's `ARGO_TOKEN='Bearer v2:…'` SSO sessions do, is sent as given.
 */
export function authorizationHeader(token: string): string {
  return /^(Bearer|Basic) /.test(token) ? token : `Bearer ${token}`;
}

/** An error the server answered with (`{code, message}`), or a transport failure naming the URL and cause. */
export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  constructor(
    message: string,
    /** HTTP status; undefined when the server was never reached. */
    readonly status: number | undefined,
    /** gRPC code from the body, when the server sent one. */
    readonly grpcCode: number | undefined,
  ) {
    super(message);
  }
}

/** 429 ResourceExhausted (rate limit) and 503 Unavailable (a database outage on the server): both pass. */
const RETRIED_STATUSES = new Set([429, 503]);

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** A small JSON client for the argosync API with retries (backoff, or `Retry-After` when the server sends it). */
export class ApiClient {
  readonly #options: ApiClientOptions;
  readonly #dispatcher: Dispatcher;
  readonly #origin: string;

  constructor(options: ApiClientOptions) {
    this.#options = options;
    // Every call in flight listens on the one signal; the engine runs many at once (refresh: 16), which is no leak.
    if (options.signal) setMaxListeners(0, options.signal);
    const url = new URL(options.server);
    const prefix = joinPath(url.pathname, options.baseHref ?? '/');
    this.#origin = `${url.protocol}//${url.host}${prefix}`.replace(/\/$/, '');
    this.#dispatcher = new Agent({
      connect: { rejectUnauthorized: !options.insecureSkipVerify, ...(options.caCertificate ? { ca: options.caCertificate } : {}) },
      headersTimeout: (options.requestTimeoutSeconds ?? 30) * 1000,
      bodyTimeout: (options.requestTimeoutSeconds ?? 30) * 1000,
    });
  }

  get origin(): string {
    return this.#origin;
  }

  /** Sends one request and returns the parsed JSON body; throws ApiRequestError for non-2xx answers. */
  async send<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const url = `${this.#origin}${path}`;
    const maxRetries = this.#options.maxRetries ?? 5;
    const { signal } = this.#options;
    const cancelled = () => new ApiRequestError(`cancelled: ${method} ${url} was stopped before it completed`, undefined, undefined);
    const wait = (ms: number) => delay(ms, signal).catch(() => Promise.reject(cancelled()));
    for (let attempt = 0; ; attempt += 1) {
      if (signal?.aborted) throw cancelled();
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, {
          method,
          dispatcher: this.#dispatcher,
          headers: {
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(this.#options.token ? { authorization: authorizationHeader(this.#options.token) } : {}),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        if (signal?.aborted) throw cancelled();
        const code = (error as { code?: string }).code ?? '';
        if (TRANSIENT_CODES.has(code) && attempt < maxRetries) {
          await wait(backoffMs(attempt));
          continue;
        }
        const cause = (error as Error).message || code;
        throw new ApiRequestError(`cannot reach argosync at ${url}: ${cause}`, undefined, undefined);
      }
      const text = await response.body.text();
      if (RETRIED_STATUSES.has(response.statusCode) && attempt < maxRetries) {
        await wait(retryAfterMs(response.headers['retry-after']) ?? backoffMs(attempt));
        continue;
      }
      if (response.statusCode >= 200 && response.statusCode < 300) {
        return (text === '' ? {} : JSON.parse(text)) as T;
      }
      throw errorFromResponse(response.statusCode, text);
    }
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}

function errorFromResponse(status: number, text: string): ApiRequestError {
  try {
    const body = JSON.parse(text) as { code?: number; message?: string };
    if (typeof body.message === 'string') return new ApiRequestError(body.message, status, body.code);
  } catch {
    // not JSON: fall through to the raw text
  }
  return new ApiRequestError(text.trim() || `HTTP ${status}`, status, undefined);
}

/** `Retry-After` is either seconds or an HTTP date; argosync sends the date, as Argo does. */
function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function backoffMs(attempt: number): number {
  return Math.min(100 * 2 ** attempt, 5000);
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return sleep(ms, undefined, signal ? { signal } : {});
}

function joinPath(a: string, b: string): string {
  const joined = `/${[a, b].map((part) => part.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}/`;
  return joined === '//' ? '/' : joined;
}
