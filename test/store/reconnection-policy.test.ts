import { describe, expect, it } from 'vitest';
import { connectionFailureReason } from '../../runtime/store/connection-failure.js';
import { reconnect, reconnectionDelayMs, type ReconnectionPolicy } from '../../runtime/store/reconnection-policy.js';

const ARGO_DEFAULTS: ReconnectionPolicy = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 30_000, retryMultiple: 2 };
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** Runs `reconnect` with a sleep that records instead of waiting, and a log that records its lines. */
function harness(policy: ReconnectionPolicy, untilAborted?: AbortController) {
  const slept: number[] = [];
  const lines: string[] = [];
  const options = {
    policy,
    what: 'waiting for the sync database postgresql at db:5432',
    log: { warn: (line: string) => lines.push(`warn ${line}`), info: (line: string) => lines.push(`info ${line}`) },
    sleep: async (ms: number) => void slept.push(ms),
    ...(untilAborted ? { untilSucceeded: true, signal: untilAborted.signal } : {}),
  };
  return { slept, lines, run: <T>(attempt: () => Promise<T>) => reconnect(attempt, options) };
}

describe('the reconnection policy (reconnectionConfig)', () => {
  it("waits base × multiple^(n-1), capped at the maximum, as Argo's defaults say", () => {
    expect([1, 2, 3, 4, 5, 6, 10, 20].map((retry) => reconnectionDelayMs(ARGO_DEFAULTS, retry))).toEqual([100, 200, 400, 800, 1600, 3200, 30_000, 30_000]);
    expect([1, 2, 3].map((retry) => reconnectionDelayMs({ ...ARGO_DEFAULTS, retryMultiple: 1 }, retry))).toEqual([100, 100, 100]);
  });

  it('retries an outage maxRetries times, logging each attempt at warn, then gives up with the last failure', async () => {
    const { slept, lines, run } = harness({ ...ARGO_DEFAULTS, maxRetries: 2 });
    let attempts = 0;
    const failure = await run(async () => {
      attempts += 1;
      throw refused();
    }).catch((error: unknown) => error);
    expect((failure as Error).message).toBe('connect ECONNREFUSED 127.0.0.1:5432');
    expect(attempts).toBe(3);
    expect(slept).toEqual([100, 200]);
    expect(lines).toEqual([
      'warn waiting for the sync database postgresql at db:5432: attempt 1 of 3 failed (connection refused); retrying in 100 ms',
      'warn waiting for the sync database postgresql at db:5432: attempt 2 of 3 failed (connection refused); retrying in 200 ms',
      'warn waiting for the sync database postgresql at db:5432: attempt 3 failed (connection refused); giving up after 2 retries (reconnectionConfig.maxRetries)',
    ]);
  });

  it('logs the recovery at info', async () => {
    const { lines, run } = harness(ARGO_DEFAULTS);
    let attempts = 0;
    expect(await run(async () => (++attempts < 3 ? Promise.reject(refused()) : 'connected'))).toBe('connected');
    expect(lines[2]).toMatch(/^info waiting for the sync database postgresql at db:5432: succeeded at attempt 3 after \d+ ms$/);
  });

  it('fails at once on anything but an outage (a wrong password is not worth waiting for)', async () => {
    const { slept, run } = harness(ARGO_DEFAULTS);
    const denied = Object.assign(new Error('password authentication failed for user "argo"'), { code: '28P01' });
    await expect(run(() => Promise.reject(denied))).rejects.toBe(denied);
    expect(slept).toEqual([]);
  });

  it('retries a connection that must come back, whatever the failure, past maxRetries until it is aborted', async () => {
    const closing = new AbortController();
    let attempts = 0;
    const { slept, run } = harness({ ...ARGO_DEFAULTS, maxRetries: 1 }, closing);
    await expect(
      run(async () => {
        if (++attempts === 8) closing.abort();
        throw new Error('the database system is starting up');
      }),
    ).rejects.toThrow('the database system is starting up');
    expect(slept).toEqual([100, 200, 400, 800, 1600, 3200, 6400]);
  });

  it('stops waiting at once when aborted in the middle of a delay', async () => {
    const closing = new AbortController();
    const waiting = reconnect(() => Promise.reject(refused()), { policy: { ...ARGO_DEFAULTS, baseDelayMs: 60_000 }, what: 'x', log: { warn: () => closing.abort(), info: () => undefined }, signal: closing.signal });
    await expect(waiting).rejects.toThrow('ECONNREFUSED');
  });
});

describe('connectionFailureReason', () => {
  it.each([
    [refused(), 'connection refused'],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'connection reset'],
    [new Error('Connection terminated unexpectedly'), 'connection terminated unexpectedly'],
    [Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), 'server shutting down'],
    [Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST' }), 'connection lost'],
    [new Error('cannot connect to postgresql at db:5432: connection refused', { cause: refused() }), 'connection refused'],
    [Object.assign(new AggregateError([refused()]), { code: undefined, errors: [refused()] }), 'connection refused'],
  ])('names an outage: %s', (error, reason) => {
    expect(connectionFailureReason(error)).toBe(reason);
  });

  it.each([
    Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }),
    Object.assign(new Error('could not serialize access'), { code: '40001' }),
    Object.assign(new Error("Access denied for user 'x'"), { code: 'ER_ACCESS_DENIED_ERROR' }),
  ])('is undefined for anything else: %s', (error) => {
    expect(connectionFailureReason(error)).toBeUndefined();
  });
});
