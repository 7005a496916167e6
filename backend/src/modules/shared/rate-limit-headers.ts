import { AppException } from './errors/app-exception';
import { ErrorCode } from './errors/error-code';

export interface PolicyState {
  policy: string;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
  windowSeconds: number;
}

/**
 * Builds the X-RateLimit-* headers (for the most constrained policy) and the IETF
 * `RateLimit-Policy` / `RateLimit` structured fields (draft-ietf-httpapi-ratelimit-headers) for all policies.
 */
export function rateLimitHeaders(states: PolicyState[], violated: PolicyState[]): Record<string, string> {
  if (states.length === 0) return {};
  const tightest = [...(violated.length > 0 ? violated : states)].sort(
    (a, b) => a.remaining / a.limit - b.remaining / b.limit || b.resetSeconds - a.resetSeconds,
  )[0];
  const headers: Record<string, string> = {
    'X-RateLimit-Limit': String(tightest.limit),
    'X-RateLimit-Remaining': String(tightest.remaining),
    'X-RateLimit-Reset': String(tightest.resetSeconds),
    'RateLimit-Policy': states.map((s) => `"${s.policy}";q=${s.limit};w=${s.windowSeconds}`).join(', '),
    RateLimit: states.map((s) => `"${s.policy}";r=${s.remaining};t=${s.resetSeconds}`).join(', '),
  };
  if (violated.length > 0) headers['Retry-After'] = String(Math.max(...violated.map((v) => v.resetSeconds)));
  return headers;
}

/**
 * The one 429 of the service, whichever limiter refused: the headers and
 * `details.violatedPolicies` describe the refusing limit(s).
 */
export function rateLimitedException(states: PolicyState[], violated: PolicyState[]): AppException {
  return new AppException(
    ErrorCode.RateLimited,
    `Rate limit exceeded for ${violated.map((v) => v.policy).join(', ')}`,
    { violatedPolicies: violated },
    rateLimitHeaders(states, violated),
  );
}
