import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { databaseFailure } from '../../modules/shared/errors/database-failure';
import { isPostgresUrl } from '../../modules/shared/database/database-url';
import { RequestContext } from '../context/request-context';
import { AppLogger } from '../logger/app-logger';
import { MetricsService } from '../metrics/metrics.service';
import { AppException } from '../../modules/shared/errors/app-exception';
import { errorBody } from './error-body';
import { ErrorCode } from '../../modules/shared/errors/error-code';

interface Mapped {
  code: ErrorCode;
  message: string;
  details?: unknown;
  headers?: Record<string, string>;
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

/** The one filter: every error leaves as the contract's body; stacks go to the error log only. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger: AppLogger;

  private readonly dialect: 'sqlite' | 'postgres';

  constructor(
    logger: AppLogger,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.logger = logger.forContext('ExceptionFilter');
    this.dialect = isPostgresUrl(config.DATABASE_URL) ? 'postgres' : 'sqlite';
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    const mapped = this.map(exception);
    const correlationId =
      RequestContext.correlationId() ??
      (res.getHeader('X-Correlation-ID') as string | undefined) ??
      RequestContext.acceptOrCreate(undefined);
    if (mapped.code === ErrorCode.DatabaseUnavailable || mapped.code === ErrorCode.DatabaseBusy) {
      this.logger.warn(`${mapped.code} on ${req.method} ${req.path}`, {
        correlationId,
        error: exception instanceof Error ? exception.message : String(exception),
      });
    } else if (mapped.code === ErrorCode.Internal) {
      this.logger.errorWithStack(`Unhandled error on ${req.method} ${req.path}`, exception, {
        correlationId,
      });
    } else if (mapped.code === ErrorCode.Unauthenticated || mapped.code === ErrorCode.Forbidden) {
      this.logger.security('access.denied', {
        code: mapped.code,
        method: req.method,
        path: req.path,
        ip: req.ip,
      });
    } else if (mapped.code === ErrorCode.RateLimited) {
      const violated = (mapped.details as { violatedPolicies?: { policy: string }[] } | undefined)
        ?.violatedPolicies;
      for (const { policy } of violated ?? [{ policy: 'unknown' }]) this.metrics.rateLimited.inc({ policy });
      this.logger.security('rate_limit.exceeded', {
        method: req.method,
        path: req.path,
        details: mapped.details,
      });
    }
    if (res.headersSent) return;
    for (const [name, value] of Object.entries(mapped.headers ?? {})) res.setHeader(name, value);
    const body = errorBody(mapped.code, mapped.message, correlationId, mapped.details);
    res.status(body.statusCode).json(body);
  }

  private map(exception: unknown): Mapped {
    if (exception instanceof AppException) {
      return {
        code: exception.code,
        message: exception.message,
        details: exception.details,
        headers: exception.headers,
      };
    }
    if (exception instanceof ThrottlerException) {
      return { code: ErrorCode.RateLimited, message: 'Too many requests, slow down' };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code =
        STATUS_TO_CODE[status] ?? (status >= 500 ? ErrorCode.Internal : ErrorCode.ValidationFailed);
      const response = exception.getResponse();
      const raw =
        typeof response === 'object' && response !== null
          ? (response as { message?: unknown }).message
          : response;
      if (code === ErrorCode.Internal) return { code, message: 'Internal server error' };
      if (Array.isArray(raw)) return { code, message: 'Request validation failed', details: { errors: raw } };
      if (code === ErrorCode.NotFound && status === 404) return { code, message: 'Route not found' };
      return { code, message: typeof raw === 'string' ? raw : exception.message };
    }
    // body-parser errors carry `type` and `status`.
    const bodyError = exception as { type?: string; status?: number } | null;
    if (bodyError?.type === 'entity.too.large') {
      return { code: ErrorCode.PayloadTooLarge, message: 'Request body exceeds MAX_BODY_BYTES' };
    }
    if (bodyError?.type === 'entity.parse.failed') {
      return { code: ErrorCode.ValidationFailed, message: 'Malformed JSON body' };
    }
    if (bodyError?.status && bodyError.status >= 400 && bodyError.status < 500) {
      return {
        code: STATUS_TO_CODE[bodyError.status] ?? ErrorCode.ValidationFailed,
        message: 'Malformed request',
      };
    }
    const failure = databaseFailure(exception, this.dialect);
    if (failure === 'busy') {
      return {
        code: ErrorCode.DatabaseBusy,
        message: 'The database is busy; try again shortly',
        headers: { 'Retry-After': String(BUSY_RETRY_AFTER_S) },
      };
    }
    if (failure === 'unavailable') {
      return {
        code: ErrorCode.DatabaseUnavailable,
        message: 'The database is unavailable; try again shortly',
        headers: { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_S) },
      };
    }
    return { code: ErrorCode.Internal, message: 'Internal server error' };
  }
}
