import { ErrorCode, statusOf } from './error-code';

/** The one exception type: a contract code, a human message and optional details. */
export class AppException extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.status = statusOf(code);
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
