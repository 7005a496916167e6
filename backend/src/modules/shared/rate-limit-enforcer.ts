import { isDatabaseFailure } from './errors/database-failure';
import type { ModuleLogger } from './module-logger';
import type { RateCharge, RateLimiterPort } from './ports';
import { rateLimitedException, rateLimitHeaders } from './rate-limit-headers';

/**
 * Charges `key` through the host's limiter and answers what the response needs: the
 * rate-limit headers when allowed, a 429 (headers, `Retry-After`, violated policies)
 * when refused. Fails open, with a log line, when the limiter's storage fails: a broken
 * limiter must not take the API down.
 */
export async function enforceRateLimit(
  limiter: RateLimiterPort,
  logger: ModuleLogger,
  key: string,
  charges: RateCharge[],
): Promise<Record<string, string>> {
  let decision;
  try {
    decision = await limiter.consume(key, charges);
  } catch (error) {
    // A database that is down or locked fails the request anyway: answer that (503) at once.
    if (isDatabaseFailure(error)) throw error;
    logger.errorWithStack('Rate limiter failed; allowing the request', error);
    return {};
  }
  if (!decision.allowed) throw rateLimitedException(decision.states, decision.violated);
  return rateLimitHeaders(decision.states, decision.violated);
}
