/**
 * Delay before attempt `attempt + 1` after attempt `attempt` failed:
 * base × 2^(attempt-1), with ±20 % jitter so retries of one chunk spread out.
 */
export function retryBackoffMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const exponential = baseMs * 2 ** Math.max(0, attempt - 1);
  const jitter = 1 + (random() * 0.4 - 0.2);
  return Math.round(exponential * jitter);
}
