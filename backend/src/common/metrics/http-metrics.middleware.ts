import type { NextFunction, Request, Response } from 'express';
import type { MetricsService } from './metrics.service';

/** Records every request's duration under its route pattern (`/batches/:id`), never the raw path. */
export function httpMetricsMiddleware(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const end = metrics.httpDuration.startTimer();
    res.once('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}
