import { z } from 'zod';
import type { OperationLimits } from '../../batch';

/** What one host may take from `papers.fetch-fulltext`, and how its failures are retried. */
export interface HostPolicy {
  limits: OperationLimits;
  /** Attempts at most for a failure of this host that a retry may fix (then it fails for good). */
  maxAttempts?: number;
  /** Backoff base of this host's retryable failures: base × 2^(attempt-1), ±20 %. */
  backoffMs?: number;
}

const rate = z
  .string()
  .regex(/^\d+\/\d+$/, 'must look like <count>/<seconds>')
  .transform((value) => {
    const [count, seconds] = value.split('/').map(Number);
    return { count, windowMs: seconds * 1000 };
  })
  .refine((r) => r.count >= 1 && r.windowMs >= 1000, 'count and seconds must be at least 1');

const entry = z.strictObject({
  concurrency: z.number().int().min(1).max(256).optional(),
  rate: rate.optional(),
  maxAttempts: z.number().int().min(1).max(10).optional(),
  backoffMs: z.number().int().min(0).max(86_400_000).optional(),
});

/** FULLTEXT_HOST_POLICIES: a JSON object of `host[:port]` → `{ concurrency?, rate? ("n/s"), maxAttempts?, backoffMs? }`. */
export const hostPoliciesSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().min(1).max(260), entry));

export type HostPolicies = z.infer<typeof hostPoliciesSchema>;

/**
 * Per-host limits and retry policy: the host's own entry (by `host:port`, then by name),
 * over the defaults (FULLTEXT_PER_HOST_CONCURRENCY, FULLTEXT_PER_HOST_RATE).
 */
export class HostPolicyBook {
  constructor(
    private readonly defaults: OperationLimits,
    private readonly policies: HostPolicies,
  ) {}

  of(host: string): HostPolicy {
    const own = this.policies[host] ?? this.policies[host.replace(/:\d+$/, '')] ?? {};
    return {
      limits: {
        concurrency: own.concurrency ?? this.defaults.concurrency,
        rate: own.rate ?? this.defaults.rate,
      },
      maxAttempts: own.maxAttempts,
      backoffMs: own.backoffMs,
    };
  }
}
