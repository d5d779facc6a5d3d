import { InvalidArgumentError } from '../../errors.js';
import type { ConnectionSpec } from '../connection-spec.js';

/** Turns a driver's connection failure into the message SPEC 7.4 asks for, e.g. `cannot connect to postgresql at db:5432: connection refused`. */
export function connectError(spec: ConnectionSpec, error: unknown): InvalidArgumentError {
  const cause = error as { code?: string; message?: string; errors?: { code?: string }[] };
  const code = cause.code ?? cause.errors?.[0]?.code;
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
  };
  const reason = (code && reasons[code]) || cause.message || code || 'unknown error';
  const address = `${spec.host ?? 'localhost'}${spec.port ? `:${spec.port}` : ''}`;
  return new InvalidArgumentError(`cannot connect to ${spec.driver} at ${address}: ${reason}`);
}
