import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  Inject,
  Injectable,
  Optional,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { ModuleLogger } from '../module-logger';
import {
  ENGINE_DATABASE,
  type EngineDatabase,
  METRICS_PORT,
  type MetricsPort,
  REQUEST_CONTEXT_PORT,
  type RequestContextPort,
} from '../ports';
import { ErrorCode } from './error-code';
import { errorBody, toErrorResponse } from './error-response';

/** What answering an error needs: where its lines go, the correlation id, the 429 counter. */
export interface ErrorReporting {
  dialect: 'sqlite' | 'postgres';
  correlationId: (res: Response) => string;
  log: {
    warn(message: string, fields: Record<string, unknown>): void;
    errorWithStack(message: string, error: unknown, fields: Record<string, unknown>): void;
    security(event: string, fields: Record<string, unknown>): void;
  };
  countRefusal: (policy: string) => void;
}

/**
 * Answers an HTTP error as the contract says (body, status, headers such as Retry-After and
 * the rate-limit policy headers) and logs it by kind: database outages as warnings, the
 * unexpected with its stack (never sent), refusals as security events.
 */
export function respondWithError(exception: unknown, host: ArgumentsHost, reporting: ErrorReporting): void {
  if (host.getType() !== 'http') return;
  const res = host.switchToHttp().getResponse<Response>();
  const req = host.switchToHttp().getRequest<Request>();
  const mapped = toErrorResponse(exception, reporting.dialect);
  const correlationId = reporting.correlationId(res);
  const where = { method: req.method, path: req.path };
  if (mapped.code === ErrorCode.DatabaseUnavailable || mapped.code === ErrorCode.DatabaseBusy) {
    reporting.log.warn(`${mapped.code} on ${req.method} ${req.path}`, {
      correlationId,
      error: exception instanceof Error ? exception.message : String(exception),
    });
  } else if (mapped.code === ErrorCode.Internal) {
    reporting.log.errorWithStack(`Unhandled error on ${req.method} ${req.path}`, exception, {
      correlationId,
    });
  } else if (mapped.code === ErrorCode.Unauthenticated || mapped.code === ErrorCode.Forbidden) {
    reporting.log.security('access.denied', { code: mapped.code, ...where, ip: req.ip });
  } else if (mapped.code === ErrorCode.RateLimited) {
    const violated = (mapped.details as { violatedPolicies?: { policy: string }[] } | undefined)
      ?.violatedPolicies;
    for (const { policy } of violated ?? [{ policy: 'unknown' }]) reporting.countRefusal(policy);
    reporting.log.security('rate_limit.exceeded', { ...where, details: mapped.details });
  }
  if (res.headersSent) return;
  // Read by the feature-flag module's rollout guards (DATABASE_BUSY / DATABASE_UNAVAILABLE answers).
  if (typeof res.locals === 'object') res.locals.moduleErrorCode = mapped.code;
  for (const [name, value] of Object.entries(mapped.headers ?? {})) res.setHeader(name, value);
  const body = errorBody(mapped.code, mapped.message, correlationId, mapped.details);
  res.status(body.statusCode).json(body);
}

/**
 * Bound on every module controller (`@UseFilters`): a controller's filter comes before any
 * global one, so module routes answer the contract's error shape and headers whatever
 * the host's own global exception filter does with other routes (the real host's rewrites
 * every error into a shape of its own and drops the headers).
 */
@Catch()
@Injectable()
export class ModuleExceptionFilter implements ExceptionFilter {
  private readonly reporting: ErrorReporting;

  constructor(
    @Inject(REQUEST_CONTEXT_PORT) context: RequestContextPort,
    @Inject(METRICS_PORT) metrics: MetricsPort,
    logger: ModuleLogger,
    @Optional() @Inject(ENGINE_DATABASE) database?: EngineDatabase,
  ) {
    this.reporting = {
      dialect: database?.dialect.name ?? 'sqlite',
      correlationId: (res) =>
        context.correlationId() ?? (res.getHeader('X-Correlation-ID') as string | undefined) ?? 'none',
      log: logger.forContext('ModuleExceptionFilter'),
      countRefusal: (policy) => metrics.increment('rate_limit_refusals_total', { policy }),
    };
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    respondWithError(exception, host, this.reporting);
  }
}
