import { HttpException } from '@nestjs/common';
import { ErrorCode, statusOf } from './error-code';

/**
 * The one exception type: a contract code, a human message and optional details. It is
 * an HttpException, so a host's own exception filter (or Nest's default one) answers
 * with the right status and the contract's fields; the standalone service's filter also
 * sets `headers` (rate limits) and the correlation id.
 */
export class AppException extends HttpException {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(
      { statusCode: statusOf(code), code, message, ...(details === undefined ? {} : { details }) },
      statusOf(code),
    );
    this.message = message;
  }

  static notFound(what = 'Resource'): AppException {
    return new AppException(ErrorCode.NotFound, `${what} not found`);
  }

  static validation(message: string, details?: unknown): AppException {
    return new AppException(ErrorCode.ValidationFailed, message, details);
  }

  static invalidState(message: string): AppException {
    return new AppException(ErrorCode.InvalidState, message);
  }
}
