import { SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import type { RatePolicyName } from '../config/app-config';

export interface RateLimitSpec {
  policy: RatePolicyName;
  /** Units this request consumes (default 1), e.g. the number of submitted items. */
  cost?: (req: Request) => number;
}

export const RATE_LIMIT_SPECS = 'rateLimit:specs';

/**
 * Applies named database-backed policies to a route. All listed policies are consumed
 * atomically: if one refuses, none is charged.
 */
export const RateLimit = (...specs: (RatePolicyName | RateLimitSpec)[]) =>
  SetMetadata(
    RATE_LIMIT_SPECS,
    specs.map((s) => (typeof s === 'string' ? { policy: s } : s)),
  );

export const THROTTLER_OPT_IN = 'throttler:optIn';

/** Opts a route into the named @nestjs/throttler throttlers `auth` / `upload` (the `default` one applies everywhere). */
export const UseThrottlers = (...names: ('auth' | 'upload')[]) => SetMetadata(THROTTLER_OPT_IN, names);
