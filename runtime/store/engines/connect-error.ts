import { InvalidArgumentError } from '../../errors.js';
import type { ConnectionSpec } from '../connection-spec.js';
import { connectionFailureReason } from '../connection-failure.js';
import { addressOf } from '../database-role.js';

/** Turns a driver's connection failure into the message SPEC 7.4 asks for, e.g. `cannot connect to postgresql at db:5432: connection refused`. */
export function connectError(spec: ConnectionSpec, error: unknown): InvalidArgumentError {
  const cause = error as { code?: string; message?: string };
  const reason = connectionFailureReason(error) ?? (cause.message || cause.code || 'unknown error');
  // The cause stays attached, so that start-up can tell an outage (worth waiting for) from a bad password.
  return new InvalidArgumentError(`cannot connect to ${spec.driver} at ${addressOf(spec)}: ${reason}`, { cause: error });
}
