/** Every error code of the public contract, with its HTTP status. */
export enum ErrorCode {
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  FeatureDisabled = 'FEATURE_DISABLED',
  NotFound = 'NOT_FOUND',
  ValidationFailed = 'VALIDATION_FAILED',
  UnknownOperation = 'UNKNOWN_OPERATION',
  InvalidState = 'INVALID_STATE',
  IdempotencyInProgress = 'IDEMPOTENCY_IN_PROGRESS',
  IdempotencyKeyReused = 'IDEMPOTENCY_KEY_REUSED',
  BatchTooLarge = 'BATCH_TOO_LARGE',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  RateLimited = 'RATE_LIMITED',
  Internal = 'INTERNAL',
  DatabaseUnavailable = 'DATABASE_UNAVAILABLE',
  DatabaseBusy = 'DATABASE_BUSY',
}

export function statusOf(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.Unauthenticated:
      return 401;
    case ErrorCode.Forbidden:
    case ErrorCode.FeatureDisabled:
      return 403;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.ValidationFailed:
    case ErrorCode.UnknownOperation:
      return 400;
    case ErrorCode.InvalidState:
    case ErrorCode.IdempotencyInProgress:
      return 409;
    case ErrorCode.IdempotencyKeyReused:
      return 422;
    case ErrorCode.BatchTooLarge:
    case ErrorCode.PayloadTooLarge:
      return 413;
    case ErrorCode.RateLimited:
      return 429;
    case ErrorCode.Internal:
      return 500;
    case ErrorCode.DatabaseUnavailable:
    case ErrorCode.DatabaseBusy:
      return 503;
  }
}
