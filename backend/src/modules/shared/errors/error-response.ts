import { HttpException } from '@nestjs/common';
import { AppException } from './app-exception';
import { databaseFailure } from './database-failure';
import { ErrorCode, statusOf } from './error-code';

/** What an error becomes on the wire: the contract's code, message, details and headers. */
export interface ErrorResponse {
  code: ErrorCode;
  message: string;
  details?: unknown;
  headers?: Record<string, string>;
}

/** The contract's error body. */
export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  correlationId: string;
  details?: unknown;
}

/** Seconds a client should wait before trying again. */
const BUSY_RETRY_AFTER_S = 2;
const UNAVAILABLE_RETRY_AFTER_S = 5;

const STATUS_TO_CODE: Record<number, ErrorCode> = {
  400: ErrorCode.ValidationFailed,
  401: ErrorCode.Unauthenticated,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  405: ErrorCode.NotFound,
  409: ErrorCode.InvalidState,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.ValidationFailed,
  429: ErrorCode.RateLimited,
};

export function errorBody(
  code: ErrorCode,
  message: string,
  correlationId: string,
  details?: unknown,
): ErrorBody {
  const body: ErrorBody = { statusCode: statusOf(code), code, message, correlationId };
  if (details !== undefined) body.details = details;
  return body;
}

/**
 * Maps anything thrown while serving a request to the contract: the modules' own
 * AppException as it is; Nest's HttpExceptions by status; body-parser errors; database
 * outages and locks (503 with Retry-After); anything else INTERNAL, without its message.
 */
export function toErrorResponse(exception: unknown, dialect: 'sqlite' | 'postgres'): ErrorResponse {
  if (exception instanceof AppException)
    return {
      code: exception.code,
      message: exception.message,
      details: exception.details,
      headers: exception.headers,
    };
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = STATUS_TO_CODE[status] ?? (status >= 500 ? ErrorCode.Internal : ErrorCode.ValidationFailed);
    const response = exception.getResponse();
    const raw =
      typeof response === 'object' && response !== null
        ? (response as { message?: unknown }).message
        : response;
    if (code === ErrorCode.Internal) return { code, message: 'Internal server error' };
    if (code === ErrorCode.RateLimited) return { code, message: 'Too many requests, slow down' };
    if (Array.isArray(raw)) return { code, message: 'Request validation failed', details: { errors: raw } };
    if (code === ErrorCode.NotFound && status === 404) return { code, message: 'Route not found' };
    return { code, message: typeof raw === 'string' ? raw : exception.message };
  }
  // body-parser errors carry `type` and `status`.
  const bodyError = exception as { type?: string; status?: number } | null;
  if (bodyError?.type === 'entity.too.large')
    return { code: ErrorCode.PayloadTooLarge, message: 'Request body exceeds MAX_BODY_BYTES' };
  if (bodyError?.type === 'entity.parse.failed')
    return { code: ErrorCode.ValidationFailed, message: 'Malformed JSON body' };
  if (bodyError?.status && bodyError.status >= 400 && bodyError.status < 500)
    return {
      code: STATUS_TO_CODE[bodyError.status] ?? ErrorCode.ValidationFailed,
      message: 'Malformed request',
    };
  const failure = databaseFailure(exception, dialect);
  if (failure === 'busy')
    return {
      code: ErrorCode.DatabaseBusy,
      message: 'The database is busy; try again shortly',
      headers: { 'Retry-After': String(BUSY_RETRY_AFTER_S) },
    };
  if (failure === 'unavailable')
    return {
      code: ErrorCode.DatabaseUnavailable,
      message: 'The database is unavailable; try again shortly',
      headers: { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_S) },
    };
  return { code: ErrorCode.Internal, message: 'Internal server error' };
}
