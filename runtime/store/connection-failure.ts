/**
 * Which driver errors mean "the database cannot be reached" (as opposed to a bad query, a constraint or a
 * serialization conflict), and how to say so in a few words. The one place that classifies storage outages:
 * the reconnection policy retries exactly these, and the query layer turns them into 503 Unavailable.
 */

/** Socket-level error codes, shared by `pg` and `mysql2`, with the words used in messages. */
const SOCKET_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EPIPE: 'connection closed',
  // mysql2
  PROTOCOL_CONNECTION_LOST: 'connection lost',
  PROTOCOL_SEQUENCE_TIMEOUT: 'connection timed out',
  ER_SERVER_SHUTDOWN: 'server shutting down',
  // PostgreSQL SQLSTATE: admin_shutdown, crash_shutdown, cannot_connect_now, and class 08 (connection exception).
  '57P01': 'server shutting down',
  '57P02': 'server crashed',
  '57P03': 'server not accepting connections yet',
};

/** Messages of drivers that raise a connection loss without a code. */
const LOST_CONNECTION_MESSAGES = [
  'connection terminated',
  'connection is closed',
  'not queryable',
  'closed state',
  'connection lost',
  'timeout exceeded when trying to connect',
];

/** The reason in a few words when `error` (or its cause) is a lost or refused connection; undefined otherwise. */
export function connectionFailureReason(error: unknown): string | undefined {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 4; depth += 1) {
    const candidate = current as { code?: unknown; errors?: { code?: unknown }[]; message?: unknown; cause?: unknown };
    const code = String(candidate.code ?? candidate.errors?.[0]?.code ?? '');
    const reason = SOCKET_REASONS[code] ?? (code.startsWith('08') && code.length === 5 ? 'connection failure' : undefined);
    if (reason) return reason;
    const message = typeof candidate.message === 'string' ? candidate.message.toLowerCase() : '';
    if (LOST_CONNECTION_MESSAGES.some((text) => message.includes(text))) return message.split('\n')[0];
    current = candidate.cause;
  }
  return undefined;
}
