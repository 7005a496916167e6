import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** The host's correlation context: its own AsyncLocalStorage and getter, as the monolith has. */
interface HostContext {
  correlationId: string;
  userId?: string;
}

const storage = new AsyncLocalStorage<HostContext>();

export function getCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

export function runWithCorrelation<T>(context: HostContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function correlationIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const header = req.header('x-correlation-id');
  const correlationId = header && /^[A-Za-z0-9._:-]{1,128}$/.test(header) ? header : randomUUID();
  res.setHeader('X-Correlation-ID', correlationId);
  storage.run({ correlationId }, () => next());
}
