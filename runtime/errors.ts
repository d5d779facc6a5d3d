/**
 * Errors that carry their wire form: the gRPC code and the HTTP status grpc-gateway would use.
 * Every module throws these; the server's error handler writes `{code, message}` from them.
 */
export abstract class ApiError extends Error {
  abstract readonly grpcCode: number;
  abstract readonly httpStatus: number;
}

export class InvalidArgumentError extends ApiError {
  readonly grpcCode = 3;
  readonly httpStatus = 400;
  override readonly name = 'InvalidArgumentError';
}

export class UnauthenticatedError extends ApiError {
  readonly grpcCode = 16;
  readonly httpStatus = 401;
  override readonly name = 'UnauthenticatedError';
}

export class PermissionDeniedError extends ApiError {
  readonly grpcCode = 7;
  readonly httpStatus = 403;
  override readonly name = 'PermissionDeniedError';
}

export class NotFoundError extends ApiError {
  readonly grpcCode = 5;
  readonly httpStatus = 404;
  override readonly name = 'NotFoundError';
}

export class AlreadyExistsError extends ApiError {
  readonly grpcCode = 6;
  readonly httpStatus = 409;
  override readonly name = 'AlreadyExistsError';
}

/** An optimistic-concurrency failure (stale resourceVersion): 409 like AlreadyExists, gRPC Aborted. */
export class ConflictError extends ApiError {
  readonly grpcCode = 10;
  readonly httpStatus = 409;
  override readonly name = 'ConflictError';
}

export class ResourceExhaustedError extends ApiError {
  readonly grpcCode = 8;
  readonly httpStatus = 429;
  override readonly name = 'ResourceExhaustedError';
}

export class InternalError extends ApiError {
  readonly grpcCode = 13;
  readonly httpStatus = 500;
  override readonly name = 'InternalError';
}

/** A dependency (a database) cannot be reached now; the caller may retry later. */
export class UnavailableError extends ApiError {
  readonly grpcCode = 14;
  readonly httpStatus = 503;
  override readonly name = 'UnavailableError';
}
