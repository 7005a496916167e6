import type { HostPolicies } from '../../../common/config/app-config';
import type { OperationLimits } from '../../batch';

/** FULLTEXT_HOST_POLICIES is parsed with the rest of the configuration. */
export { hostPoliciesSchema, type HostPolicies } from '../../../common/config/app-config';

/** What one host may take from `papers.fetch-fulltext`, and how its failures are retried. */
export interface HostPolicy {
  limits: OperationLimits;
  /** Attempts at most for a failure of this host that a retry may fix (then it fails for good). */
  maxAttempts?: number;
  /** Backoff base of this host's retryable failures: base × 2^(attempt-1), ±20 %. */
  backoffMs?: number;
}

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
