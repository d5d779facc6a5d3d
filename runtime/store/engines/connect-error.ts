import { InvalidArgumentError } from '../../errors.js';
import type { ConnectionSpec } from '../connection-spec.js';
import { addressOf } from '../database-role.js';

/** SPEC §7.6: what a caller learns about a failed connection, never more (the driver's text could echo a value or probe a port). */
export type ConnectFailure = 'connection refused' | 'timed out' | 'authentication failed' | 'database does not exist' | 'TLS error';

const MISSING_DATABASE = new Set(['3D000', 'ER_BAD_DB_ERROR']);
const AUTHENTICATION = new Set(['28P01', '28000', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR']);
const TIMEOUT = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNABORTED']);
const TLS_TEXT = /\b(ssl|tls|certificate|cert)\b|^ERR_(TLS|SSL)_|^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_HAS_EXPIRED|EPROTO)$/i;

/** The class of a driver's connection error; anything unrecognised (DNS, reset, a non-database port) reads as refused. */
export function classifyConnectFailure(error: unknown): ConnectFailure {
  const cause = (error ?? {}) as { code?: unknown; message?: unknown; errors?: { code?: unknown }[] };
  const code = String(cause.code ?? cause.errors?.[0]?.code ?? '');
  const message = String(cause.message ?? '');
  if (MISSING_DATABASE.has(code)) return 'database does not exist';
  if (AUTHENTICATION.has(code)) return 'authentication failed';
  if (TLS_TEXT.test(code) || TLS_TEXT.test(message)) return 'TLS error';
  if (TIMEOUT.has(code) || /time(d)? ?out/i.test(message)) return 'timed out';
  return 'connection refused';
}

/** The message SPEC 7.4 asks for, e.g. `cannot connect to postgresql at db:5432: connection refused`. */
export function connectError(spec: ConnectionSpec, error: unknown): InvalidArgumentError {
  // The cause stays attached (never shown), so that start-up can tell an outage (worth waiting for) from a bad password.
  return new InvalidArgumentError(`cannot connect to ${spec.driver} at ${addressOf(spec)}: ${classifyConnectFailure(error)}`, { cause: error });
}
