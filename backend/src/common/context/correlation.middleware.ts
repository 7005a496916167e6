import type { NextFunction, Request, Response } from 'express';
import { RequestContext, RequestContextStore } from './request-context';

export const CORRELATION_HEADER = 'X-Correlation-ID';

type RequestWithContext = Request & { context?: RequestContextStore };

/** Keeps or replaces X-Correlation-ID, echoes it, and runs the rest of the request in its context. */
export function correlationMiddleware(req: RequestWithContext, res: Response, next: NextFunction): void {
  const correlationId = RequestContext.acceptOrCreate(req.header(CORRELATION_HEADER));
  res.setHeader(CORRELATION_HEADER, correlationId);
  const store: RequestContextStore = { correlationId, startTime: Date.now() };
  req.context = store;
  RequestContext.run(store, () => next());
}

/**
 * Re-enters the request's context after the body parser: stream callbacks can run in
 * the socket's async context instead of the request's.
 */
export function reenterContextMiddleware(req: RequestWithContext, _res: Response, next: NextFunction): void {
  if (req.context) RequestContext.run(req.context, () => next());
  else next();
}
