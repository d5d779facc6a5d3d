import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnavailableError } from '../../runtime/errors.js';
import { classifyDriverError } from '../../runtime/store/connection-failure.js';
import { connectError } from '../../runtime/store/engines/connect-error.js';

const coded = (code: string, message = `driver says ${code}`) => Object.assign(new Error(message), { code });

describe('one classifier of driver errors: what a caller is told, and what is an outage', () => {
  it.each([
    // error, what a caller is told, the outage (undefined: not one)
    [coded('ECONNREFUSED'), 'connection refused', 'connection refused'],
    [coded('ETIMEDOUT'), 'timed out', 'connection timed out'],
    [coded('ECONNABORTED'), 'timed out', 'connection aborted'],
    [coded('ENOTFOUND'), 'connection refused', 'host not found'],
    [coded('08006'), 'connection refused', 'connection failure'],
    [coded('57P03'), 'connection refused', 'server not accepting connections yet'],
    [Object.assign(new Error('Connection was killed'), { errno: 1927 }), 'connection refused', 'connection killed'],
    [coded('ER_CLIENT_INTERACTION_TIMEOUT'), 'connection refused', 'connection closed by the server for inactivity'],
    [coded('28P01', 'password authentication failed for user "argo"'), 'authentication failed', undefined],
    [coded('ER_ACCESS_DENIED_ERROR'), 'authentication failed', undefined],
    [coded('3D000'), 'database does not exist', undefined],
    [coded('ER_BAD_DB_ERROR'), 'database does not exist', undefined],
    [coded('DEPTH_ZERO_SELF_SIGNED_CERT'), 'TLS error', undefined],
    [new Error('The server does not support SSL connections'), 'TLS error', undefined],
    [new Error('Connection terminated due to connection timeout'), 'timed out', 'connection terminated due to connection timeout'],
    [new Error('Connection terminated unexpectedly'), 'connection refused', 'connection terminated unexpectedly'],
    [coded('57014', 'canceling statement due to statement timeout'), 'timed out', undefined],
    [coded('23505', 'duplicate key value violates unique constraint'), 'connection refused', undefined],
    // Causes count for both questions; our own wrappers' words do not.
    [new Error('pool', { cause: coded('28P01') }), 'authentication failed', undefined],
    [new UnavailableError('sync database is unavailable: connection lost', { cause: coded('ECONNRESET') }), 'connection refused', 'connection reset'],
    [new InvalidArgumentError('cannot connect to postgresql at db:5432: TLS error', { cause: coded('ETIMEDOUT') }), 'timed out', 'connection timed out'],
    [Object.assign(new AggregateError([coded('ECONNREFUSED')]), { errors: [coded('ECONNREFUSED')] }), 'connection refused', 'connection refused'],
  ])('%s → %s, outage %s', (error, connectFailure, outage) => {
    expect(classifyDriverError(error)).toEqual(outage === undefined ? { connectFailure } : { connectFailure, outage });
  });

  it('never calls a refusal that waiting cannot cure an outage, and tells a caller only a SPEC class (fast-check)', () => {
    const codes = fc.constantFrom('ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '28P01', '28000', '3D000', 'ER_BAD_DB_ERROR', 'ER_ACCESS_DENIED_ERROR', '08001', '57P01', 'EPROTO', '23505', '40001', '', 'XX000');
    const messages = fc.oneof(fc.constantFrom('Connection terminated', 'ssl required', 'timeout', 'Connection lost', 'boom'), fc.string());
    const driverError = fc.record({ code: codes, message: messages }).map(({ code, message }) => coded(code, message));
    const nested = fc.tuple(driverError, fc.option(driverError), fc.boolean()).map(([inner, outer, ours]) => {
      const wrapped = outer === null ? inner : Object.assign(outer, { cause: inner });
      return ours ? new InvalidArgumentError('cannot connect', { cause: wrapped }) : wrapped;
    });
    fc.assert(
      fc.property(nested, (error) => {
        const { connectFailure, outage } = classifyDriverError(error);
        expect(['connection refused', 'timed out', 'authentication failed', 'database does not exist', 'TLS error']).toContain(connectFailure);
        if (outage !== undefined) expect(['connection refused', 'timed out']).toContain(connectFailure);
        // What the caller is told is the class, never the driver's text.
        expect(connectError({ driver: 'postgresql', host: 'db', port: 5432 }, error).message).toBe(`cannot connect to postgresql at db:5432: ${connectFailure}`);
      }),
    );
  });
});
