import type { LoggerPort } from './ports';

type Fields = Record<string, unknown>;

/**
 * The modules' view of the host's logger: a context name on every line, the ambient
 * `correlationId`, `userId` and `batchId` (ModuleContext) in the fields of every line,
 * and the entry kinds (business, audit, security, performance) as structured fields.
 * Fields given to a call win over the ambient ones.
 */
export class ModuleLogger {
  constructor(
    private readonly port: LoggerPort,
    private readonly context?: string,
    private readonly ambient: () => Fields = () => ({}),
  ) {}

  forContext(context: string): ModuleLogger {
    return new ModuleLogger(this.port, context, this.ambient);
  }

  info(message: string, fields: Fields = {}): void {
    this.port.log(message, { ...this.ambient(), context: this.context, ...fields });
  }

  warn(message: string, fields: Fields = {}): void {
    this.port.warn(message, { ...this.ambient(), context: this.context, ...fields });
  }

  debug(message: string, fields: Fields = {}): void {
    this.port.debug?.(message, { ...this.ambient(), context: this.context, ...fields });
  }

  errorWithStack(message: string, error: unknown, fields: Fields = {}): void {
    const err = error instanceof Error ? error : new Error(String(error));
    this.port.error(message, {
      ...this.ambient(),
      context: this.context,
      error: err.message,
      stack: err.stack,
      ...fields,
    });
  }

  /** A domain event worth keeping (batch created, finished, ...). */
  business(event: string, fields: Fields = {}): void {
    this.port.log(event, { ...this.ambient(), context: this.context, kind: 'business', event, ...fields });
  }

  /** An administrative change (the default adapter also writes it to the security log). */
  audit(action: string, fields: Fields = {}): void {
    this.port.log(action, { ...this.ambient(), context: this.context, kind: 'audit', action, ...fields });
  }

  /** Authentication failures, refused access. */
  security(event: string, fields: Fields = {}): void {
    this.port.warn(event, { ...this.ambient(), context: this.context, kind: 'security', event, ...fields });
  }

  performance(operation: string, durationMs: number, fields: Fields = {}): void {
    this.port.log(operation, {
      ...this.ambient(),
      context: this.context,
      kind: 'performance',
      durationMs,
      ...fields,
    });
  }
}
