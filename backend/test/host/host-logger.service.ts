import { Injectable, LoggerService } from '@nestjs/common';
import winston from 'winston';
import { getCorrelationId } from './host-context';

/** The host's Winston logger: JSON lines to one file, its correlation id on every line. */
@Injectable()
export class HostLoggerService implements LoggerService {
  readonly logger: winston.Logger;

  constructor(file: string) {
    const correlation = winston.format((info) => {
      info.correlationId ??= getCorrelationId();
      return info;
    });
    this.logger = winston.createLogger({
      level: 'debug',
      format: winston.format.combine(winston.format.timestamp(), correlation(), winston.format.json()),
      transports: [new winston.transports.File({ filename: file })],
    });
  }

  log(message: unknown, context?: unknown): void {
    this.logger.info(String(message), typeof context === 'string' ? { context } : {});
  }
  error(message: unknown, trace?: unknown, context?: unknown): void {
    this.logger.error(String(message), { trace, context });
  }
  warn(message: unknown, context?: unknown): void {
    this.logger.warn(String(message), typeof context === 'string' ? { context } : {});
  }
  debug(message: unknown, context?: unknown): void {
    this.logger.debug(String(message), typeof context === 'string' ? { context } : {});
  }

  /** The host's structured helper (its `logEvent` / `createChildLogger` style). */
  logStructured(
    level: 'info' | 'warn' | 'error' | 'debug',
    message: string,
    meta: Record<string, unknown>,
  ): void {
    this.logger.log(level, message, meta);
  }
}
