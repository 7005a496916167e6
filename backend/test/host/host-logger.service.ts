import { Injectable, LoggerService } from '@nestjs/common';
import winston from 'winston';

/**
 * The host's Winston logger: JSON lines to one file. Like the real host's, it never reads
 * the async context: a correlation id appears on a line only when the caller passes it.
 */
@Injectable()
export class HostLoggerService implements LoggerService {
  readonly logger: winston.Logger;

  constructor(file: string) {
    this.logger = winston.createLogger({
      level: 'debug',
      format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
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
