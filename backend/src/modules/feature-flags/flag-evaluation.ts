import murmurhash from 'murmurhash';

/** OpenFeature-style reasons. */
export enum EvaluationReason {
  Error = 'ERROR',
  Disabled = 'DISABLED',
  TargetingMatch = 'TARGETING_MATCH',
  Split = 'SPLIT',
  Default = 'DEFAULT',
}

export interface FlagRule {
  name: string;
  enabled: boolean;
  /** Percentage 0-100 with up to two decimals. */
  rollout: number;
  whitelist: string[];
  blacklist: string[];
}

export interface Evaluation {
  enabled: boolean;
  reason: EvaluationReason;
  /** 0-9999, the user's position for this flag; null when not computed. */
  bucket: number | null;
  errorCode?: 'FLAG_NOT_FOUND';
}

export const BUCKETS = 10_000;

/** murmur3_x86_32("<name>:<userId>", seed 0) mod 10,000: stable across instances and restarts. */
export function bucketOf(flagName: string, userId: string): number {
  return murmurhash.v3(`${flagName}:${userId}`, 0) % BUCKETS;
}

/**
 * The contract's precedence: missing → ERROR; kill switch → DISABLED; blacklist, then
 * whitelist → TARGETING_MATCH; else the bucket decides (SPLIT on, DEFAULT off). A user
 * enabled at rollout r stays enabled at every r' > r, since only the threshold moves.
 */
export function evaluateFlag(flag: FlagRule | undefined, userId: string): Evaluation {
  if (!flag)
    return { enabled: false, reason: EvaluationReason.Error, bucket: null, errorCode: 'FLAG_NOT_FOUND' };
  const bucket = bucketOf(flag.name, userId);
  if (!flag.enabled) return { enabled: false, reason: EvaluationReason.Disabled, bucket };
  if (flag.blacklist.includes(userId))
    return { enabled: false, reason: EvaluationReason.TargetingMatch, bucket };
  if (flag.whitelist.includes(userId))
    return { enabled: true, reason: EvaluationReason.TargetingMatch, bucket };
  const on = bucket < Math.round(flag.rollout * 100);
  return { enabled: on, reason: on ? EvaluationReason.Split : EvaluationReason.Default, bucket };
}
