import { ErrorCode, statusOf } from '../../modules/shared/errors/error-code';

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  correlationId: string;
  details?: unknown;
}

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
