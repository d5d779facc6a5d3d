import { Agent, request } from 'undici';
import type { RunningRuntime } from '../../runtime/runtime-process.js';

/** Trusts the runtime's self-signed certificate (the TLS suite checks the certificate itself). */
export const insecureAgent = new Agent({ connect: { rejectUnauthorized: false } });

export type ApiCall = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, token?: string) => Promise<{ status: number; json: Record<string, unknown> }>;

/** Calls `/api/v1<path>` of a running runtime as JSON, with its admin token unless another is given. */
export function runtimeApi(runtime: () => Pick<RunningRuntime, 'url' | 'token'>, defaultToken?: string): ApiCall {
  return async (method, path, body, token = defaultToken ?? runtime().token) => {
    const response = await request(`${runtime().url}api/v1${path}`, {
      method,
      dispatcher: insecureAgent,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.body.text();
    return { status: response.statusCode, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
}
