import { InvalidArgumentError } from '../../errors.js';
import { classifyDriverError } from '../connection-failure.js';
import type { ConnectionSpec } from '../connection-spec.js';
import { addressOf } from '../database-role.js';

/**
 * The message SPEC 7.4 asks for, e.g. `cannot connect to postgresql at db:5432: connection refused`: the class
 * of the failure, never the driver's text (it could echo a value or probe a port, SPEC §7.6).
 */
export function connectError(spec: ConnectionSpec, error: unknown): InvalidArgumentError {
  // The cause stays attached (never shown), so that start-up can tell an outage (worth waiting for) from a bad password.
  return new InvalidArgumentError(`cannot connect to ${spec.driver} at ${addressOf(spec)}: ${classifyDriverError(error).connectFailure}`, { cause: error });
}
