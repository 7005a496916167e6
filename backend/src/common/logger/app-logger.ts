import path from 'node:path';
import type { LoggerService } from '@nestjs/common';
import winston from 'winston';
import { RequestContext } from '../context/request-context';
import { BACKEND_DIR } from '../prisma/database-url';
import { DailyFileTransport } from './daily-file.transport';
import { redact } from './redact';

export interface AppLoggerOptions {
  logDir: string;
  level: string;
  json: boolean;
  console: boolean;
}

type Fields = Record<string, unknown>;

/** Adds correlationId/userId/batchId from the async context and redacts secrets. */
const contextFormat = winston.format((info) => {
  const ctx = RequestContext.get();
  if (ctx) {
    info.correlationId ??= ctx.correlationId;
    if (ctx.userId) info.userId ??= ctx.userId;
    if (ctx.batchId) info.batchId ??= ctx.batchId;
  }
  for (const key of Object.keys(info)) {
    if (key !== 'level' && key !== 'stack') info[key] = redact(info[key]);
  }
  return info;
});

const fileFormat = winston.format.combine(winston.format.timestamp(), contextFormat(), winston.format.json());

/**
 * The loggers' own format: none. Winston's default (JSON) would serialize every entry once
 * more before each transport formats it its own way, and even entries no transport takes.
 */
const passThrough = winston.format((info) => info)();

/**
 * The one logger: Winston behind Nest's LoggerService, JSON lines to daily-rotated
 * files, plus helpers for business, audit, security and performance entries.
 */
export class AppLogger implements LoggerService {
  private readonly main: winston.Logger;
  private readonly securityLog: winston.Logger;

  constructor(
    options: AppLoggerOptions,
    private readonly context?: string,
    shared?: AppLogger,
  ) {
    if (shared) {
      this.main = shared.main;
      this.securityLog = shared.securityLog;
      return;
    }
    const dir = path.isAbsolute(options.logDir) ? options.logDir : path.resolve(BACKEND_DIR, options.logDir);
    const daily = (name: string, maxDays: number, level?: string) =>
      new DailyFileTransport({ dirname: dir, name, maxDays, level, format: fileFormat });
    const transports: winston.transport[] = [daily('application', 14), daily('error', 14, 'error')];
    if (options.console) {
      transports.push(
        new winston.transports.Console({
          format: options.json
            ? fileFormat
            : winston.format.combine(
                winston.format.timestamp(),
                contextFormat(),
                // Colours only on a terminal: redirected output stays plain text.
                ...(process.stdout.isTTY && !process.env.NO_COLOR ? [winston.format.colorize()] : []),
                winston.format.printf(({ timestamp, level, message, context, correlationId, stack }) => {
                  const ctx = typeof context === 'string' ? ` [${context}]` : '';
                  const cid = typeof correlationId === 'string' ? ` (${correlationId.slice(0, 8)})` : '';
                  return `${String(timestamp)} ${level}${ctx}${cid} ${String(message)}${typeof stack === 'string' ? `\n${stack}` : ''}`;
                }),
              ),
        }),
      );
    }
    this.main = winston.createLogger({ level: options.level, format: passThrough, transports });
    this.securityLog = winston.createLogger({
      level: 'info',
      format: passThrough,
      transports: [daily('security', 30)],
    });
  }

  /** A logger that stamps every line with `context`. */
  forContext(context: string): AppLogger {
    return new AppLogger({} as AppLoggerOptions, context, this);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  info(message: string, fields: Fields = {}): void {
    this.main.info(message, { context: this.context, ...fields });
  }

  /** A domain event worth keeping (batch created, finished, ...). */
  business(event: string, fields: Fields = {}): void {
    this.main.info(event, { context: this.context, kind: 'business', event, ...fields });
  }

  /** An administrative change: written to the application and the security log. */
  audit(action: string, fields: Fields = {}): void {
    const entry = { context: this.context, kind: 'audit', action, ...fields };
    this.main.info(action, entry);
    this.securityLog.info(action, entry);
  }

  /** Authentication failures, rate-limit hits, forbidden access. */
  security(event: string, fields: Fields = {}): void {
    const entry = { context: this.context, kind: 'security', event, ...fields };
    this.main.warn(event, entry);
    this.securityLog.warn(event, entry);
  }

  performance(operation: string, durationMs: number, fields: Fields = {}): void {
    this.main.info(operation, { context: this.context, kind: 'performance', durationMs, ...fields });
  }

  errorWithStack(message: string, error: unknown, fields: Fields = {}): void {
    const err = error instanceof Error ? error : new Error(String(error));
    this.main.error(message, { context: this.context, error: err.message, stack: err.stack, ...fields });
  }

  async close(): Promise<void> {
    const finished = (logger: winston.Logger) =>
      new Promise<void>((resolve) => {
        logger.on('finish', () => resolve());
        logger.end();
        setTimeout(resolve, 500).unref();
      });
    await Promise.all([finished(this.main), finished(this.securityLog)]);
  }

  private write(level: string, message: unknown, params: unknown[]): void {
    // Nest calls log(message, context) and error(message, stack, context).
    let context = this.context;
    let stack: string | undefined;
    const rest = [...params];
    if (rest.length > 0 && typeof rest[rest.length - 1] === 'string') context = rest.pop() as string;
    if (level === 'error' && rest.length > 0 && typeof rest[0] === 'string') stack = rest.shift() as string;
    if (message instanceof Error) {
      stack = message.stack;
      message = message.message;
    }
    const fields: Fields = { context };
    if (stack) fields.stack = stack;
    if (rest.length === 1 && rest[0] && typeof rest[0] === 'object') Object.assign(fields, rest[0]);
    // Audit and security entries from the modules' logger port also go to the security log.
    const toSecurity = fields.kind === 'audit' || fields.kind === 'security';
    const toMain = this.main.isLevelEnabled(level);
    if (!toMain && !toSecurity) return;
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    if (toMain) this.main.log(level, text, fields);
    if (toSecurity) this.securityLog.log(level, text, fields);
  }
}
