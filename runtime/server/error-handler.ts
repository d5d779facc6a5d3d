import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, UnavailableError } from '../errors.js';
import { redactUrl } from '../redact.js';

/** The wire form of every error, as grpc-gateway writes a `google.rpc.Status`. */
export interface ErrorBody {
  readonly code: number;
  readonly message: string;
}

const INVALID_ARGUMENT = 3;
const INTERNAL = 13;
/**
 * `Retry-After` of a 503 during a database outage: during a known outage a request costs one connection
 * attempt and the first that succeeds ends the outage, so a short pause is enough.
 */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/** gRPC codes for the statuses Fastify itself may produce; any other 4xx is InvalidArgument (SPEC §7.1). */
const GRPC_CODE_BY_STATUS: Readonly<Record<number, number>> = { 401: 16, 403: 7, 404: 5, 409: 6, 429: 8 };

/**
 * Installs the one error handler and the 404 handler on the root context (children inherit them).
 * ApiErrors are written as they are; Fastify's own request errors (bad JSON, schema failures, wrong
 * content type, oversize bodies, which Fastify marks 413/415) become 3/400 with a clear message;
 * anything else is 13/500 `internal error`, its detail only in the log. No stack ever reaches a client.
 * A database outage (14/503) is expected and passes: it carries `Retry-After` and is logged at warn.
 */
export function registerErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const [status, body] = toWire(error, request, bodyLimit);
    if (error instanceof UnavailableError) {
      reply.header('retry-after', UNAVAILABLE_RETRY_AFTER_SECONDS);
      request.log.warn({ code: body.code, status }, body.message);
    } else if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code, status }, body.message);
    return reply.code(status).type('application/json').send(body);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    reply.code(404).send({ code: 5, message: `Not Found: no route for ${request.method} ${redactUrl(request.url)}` }),
  );
}

/** Fastify's `frameworkErrors`: a URL it cannot decode (`%ZZ`) and the like, answered in the `{code, message}` shape. */
export function writeFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const message = error.code === 'FST_ERR_BAD_URL' ? 'the request URL is not valid: a %-escape does not decode' : error.message;
  void reply.code(status).type('application/json').send({ code: GRPC_CODE_BY_STATUS[status] ?? INVALID_ARGUMENT, message });
}

/** What Node's HTTP parser refuses before Fastify sees a request, in the same `{code, message}` shape. */
const CLIENT_ERRORS: Readonly<Record<string, readonly [number, string, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'the request line or headers are larger than the server accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request was not received in time'],
};

/** Fastify's `clientErrorHandler`: answers a request the HTTP parser could not read, then closes the connection. */
export function writeClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const [status, reason, message] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'Bad Request', 'malformed HTTP request'];
  const body = JSON.stringify({ code: GRPC_CODE_BY_STATUS[status] ?? INVALID_ARGUMENT, message });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
}

function toWire(error: FastifyError, request: FastifyRequest, bodyLimit: number): [number, ErrorBody] {
  if (error instanceof ApiError) return [error.httpStatus, { code: error.grpcCode, message: error.message }];
  if (error.validation) return [400, { code: INVALID_ARGUMENT, message: `invalid request: ${error.message}` }];
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return [400, { code: INVALID_ARGUMENT, message: 'request body is not valid JSON' }];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return [400, { code: INVALID_ARGUMENT, message: 'request body is empty but content-type is application/json' }];
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [400, { code: INVALID_ARGUMENT, message: `request body is larger than the limit of ${bodyLimit} bytes` }];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [
        400,
        { code: INVALID_ARGUMENT, message: `unsupported content-type "${request.headers['content-type'] ?? ''}": send application/json` },
      ];
  }
  const status = error.statusCode ?? 500;
  if (error.code?.startsWith('FST_') && status >= 400 && status < 500) {
    const code = GRPC_CODE_BY_STATUS[status];
    return code === undefined ? [400, { code: INVALID_ARGUMENT, message: error.message }] : [status, { code, message: error.message }];
  }
  return [500, { code: INTERNAL, message: 'internal error' }];
}
