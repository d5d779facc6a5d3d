import { ApiError } from '../errors.js';

/**
 * The one classifier of driver errors (`pg`, `mysql2`, Node's sockets and TLS). It answers two questions
 * from the same table, so they cannot drift apart: what a caller may be told of a failed connection (SPEC
 * §7.6: a class, never the driver's text), and whether the error is an outage, i.e. the database cannot be
 * reached now (the reconnection policy retries exactly these, and the query layer turns them into 503).
 */
export type ConnectFailure = 'connection refused' | 'timed out' | 'authentication failed' | 'database does not exist' | 'TLS error';

export interface DriverErrorClass {
  /** What a caller learns when a connection attempt failed with this error. */
  readonly connectFailure: ConnectFailure;
  /** Set for an outage: the reason in a few words, for logs and 503 messages. */
  readonly outage?: string;
}

const refusal = (connectFailure: ConnectFailure): DriverErrorClass => ({ connectFailure });
const outage = (connectFailure: ConnectFailure, reason: string): DriverErrorClass => ({ connectFailure, outage: reason });

/** Error codes (socket codes shared by `pg` and `mysql2`, mysql2's own, and SQLSTATEs). */
const BY_CODE: Readonly<Record<string, DriverErrorClass>> = {
  // Refusals that waiting does not cure.
  '3D000': refusal('database does not exist'),
  ER_BAD_DB_ERROR: refusal('database does not exist'),
  '28P01': refusal('authentication failed'),
  '28000': refusal('authentication failed'),
  ER_ACCESS_DENIED_ERROR: refusal('authentication failed'),
  ER_DBACCESS_DENIED_ERROR: refusal('authentication failed'),
  ER_ACCESS_DENIED_NO_PASSWORD_ERROR: refusal('authentication failed'),
  // Outages.
  ECONNREFUSED: outage('connection refused', 'connection refused'),
  ECONNRESET: outage('connection refused', 'connection reset'),
  ETIMEDOUT: outage('timed out', 'connection timed out'),
  ESOCKETTIMEDOUT: outage('timed out', 'connection timed out'),
  ECONNABORTED: outage('timed out', 'connection aborted'),
  EHOSTUNREACH: outage('connection refused', 'host unreachable'),
  ENETUNREACH: outage('connection refused', 'network unreachable'),
  ENOTFOUND: outage('connection refused', 'host not found'),
  EAI_AGAIN: outage('connection refused', 'host not found'),
  EPIPE: outage('connection refused', 'connection closed'),
  PROTOCOL_CONNECTION_LOST: outage('connection refused', 'connection lost'),
  PROTOCOL_SEQUENCE_TIMEOUT: outage('timed out', 'connection timed out'),
  ER_SERVER_SHUTDOWN: outage('connection refused', 'server shutting down'),
  // The server closed this session: killed (MariaDB's 1927 has no name in mysql2), or idle past wait_timeout.
  ER_CONNECTION_KILLED: outage('connection refused', 'connection killed'),
  '1927': outage('connection refused', 'connection killed'),
  ER_CLIENT_INTERACTION_TIMEOUT: outage('connection refused', 'connection closed by the server for inactivity'),
  // PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now.
  '57P01': outage('connection refused', 'server shutting down'),
  '57P02': outage('connection refused', 'server crashed'),
  '57P03': outage('connection refused', 'server not accepting connections yet'),
};
/** PostgreSQL's class 08, connection exception. */
const CONNECTION_EXCEPTION = outage('connection refused', 'connection failure');
const TLS = refusal('TLS error');
const TLS_TEXT = /\b(ssl|tls|certificate|cert)\b|^ERR_(TLS|SSL)_|^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_HAS_EXPIRED|EPROTO)$/i;
/** Messages of drivers that raise a connection loss without a code. */
const LOST_CONNECTION_MESSAGES = ['connection terminated', 'connection is closed', 'not queryable', 'closed state', 'connection lost', 'timeout exceeded when trying to connect'];
const TIMEOUT_TEXT = /time(d)? ?out/i;
const UNKNOWN = refusal('connection refused');

interface Link {
  readonly code: string;
  readonly message: string;
}

/** `error` and its causes, ours (ApiError, whose words are not a driver's) left out. */
function chain(error: unknown): Link[] {
  const links: Link[] = [];
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 4; depth += 1) {
    const candidate = current as { code?: unknown; errno?: unknown; errors?: { code?: unknown }[]; message?: unknown; cause?: unknown };
    if (!(current instanceof ApiError)) {
      // mysql2 names the server errors it knows in `code`; others only have their number.
      const code = candidate.code ?? candidate.errors?.[0]?.code ?? (typeof candidate.errno === 'number' && candidate.errno > 0 ? candidate.errno : '');
      links.push({ code: String(code), message: typeof candidate.message === 'string' ? candidate.message : '' });
    }
    current = candidate.cause;
  }
  return links;
}

function byCode(code: string): DriverErrorClass | undefined {
  if (Object.hasOwn(BY_CODE, code)) return BY_CODE[code];
  if (code.startsWith('08') && code.length === 5) return CONNECTION_EXCEPTION;
  return TLS_TEXT.test(code) ? TLS : undefined;
}

function byMessage(message: string): DriverErrorClass | undefined {
  if (TLS_TEXT.test(message)) return TLS;
  const lower = message.toLowerCase();
  const timedOut = TIMEOUT_TEXT.test(message);
  if (LOST_CONNECTION_MESSAGES.some((text) => lower.includes(text))) return outage(timedOut ? 'timed out' : 'connection refused', lower.split('\n')[0]!);
  return timedOut ? refusal('timed out') : undefined;
}

/** The class of a driver error: codes anywhere in its cause chain first, then the texts of drivers that give none. */
export function classifyDriverError(error: unknown): DriverErrorClass {
  const links = chain(error);
  for (const link of links) {
    const found = byCode(link.code);
    if (found) return found;
  }
  for (const link of links) {
    const found = byMessage(link.message);
    if (found) return found;
  }
  return UNKNOWN;
}

/** The reason in a few words when `error` (or its cause) is a lost or refused connection; undefined otherwise. */
export function connectionFailureReason(error: unknown): string | undefined {
  return classifyDriverError(error).outage;
}
