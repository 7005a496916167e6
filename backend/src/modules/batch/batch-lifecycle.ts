import type { SqlDialect } from '../shared/database/sql-dialect';
import { BatchStatus, ItemStatus } from './batch-status';
import { retryBackoffMs } from './retry-backoff';
import type { ItemOutcome } from './operations/batch-operation';

/*
 * The batch lifecycle in one place: which status each action may move a batch from,
 * how a batch ends, and what an item's outcome does. The service, the repository's SQL
 * and the worker all take their rules from here.
 *
 *   pending ──claim──▶ processing ──all items settled──▶ completed | completed_with_errors | failed
 *      │  ▲                │  ▲
 *    pause resume        pause resume         (cancel from pending, processing or paused ▶ cancelled)
 *      ▼  │                ▼  │
 *     paused ◀─────────── paused              retry: completed_with_errors | failed ▶ processing
 */

/** Statuses each control action accepts (anything else is 409 INVALID_STATE). */
export const ACCEPTS = {
  cancel: [BatchStatus.Pending, BatchStatus.Processing, BatchStatus.Paused],
  pause: [BatchStatus.Pending, BatchStatus.Processing],
  resume: [BatchStatus.Paused],
  /** `completed` is accepted and then found to have nothing to retry; `cancelled` is final. */
  retry: [BatchStatus.Completed, BatchStatus.CompletedWithErrors, BatchStatus.Failed],
} as const satisfies Record<string, readonly BatchStatus[]>;

export type ControlAction = keyof typeof ACCEPTS;

export function accepts(action: ControlAction, status: string): boolean {
  return (ACCEPTS[action] as readonly string[]).includes(status);
}

/**
 * How a settled batch ends, as one SQL expression over a BatchOperation row (the finishing
 * UPDATE): cancelled stays cancelled; with `allowFailures: false` any item failed for good
 * makes it `failed`; otherwise `completed_with_errors` when some item failed, `completed`
 * when none did.
 */
export function finalStatusSql(dialect: SqlDialect): string {
  return `CASE
             WHEN "status" = '${BatchStatus.Cancelled}' THEN '${BatchStatus.Cancelled}'
             WHEN "failedCount" > 0 AND ${dialect.jsonIsFalse('"options"', 'allowFailures')} THEN '${BatchStatus.Failed}'
             WHEN "failedCount" > 0 THEN '${BatchStatus.CompletedWithErrors}'
             ELSE '${BatchStatus.Completed}' END`;
}

/** With `allowFailures: false`, the first item that fails for good cancels what is left. */
export function cancelsRemaining(failedForGood: number, allowFailures: boolean): boolean {
  return failedForGood > 0 && !allowFailures;
}

export type ItemNext =
  | { status: ItemStatus.Success; result: unknown }
  | { status: ItemStatus.Failed; error: string }
  | { status: ItemStatus.Queued; error: string | null; next: number; refundAttempt?: boolean }
  | { status: ItemStatus.Cancelled; error: string };

/** Why a chunk's work in flight was stopped: the batch was cancelled or paused, or the process is stopping. */
export type AbortReason = 'cancel' | 'pause' | 'shutdown';

/**
 * What an item that did not succeed becomes when its chunk was aborted: cancelled on a
 * cancel; queued again at once, with its attempt given back, on a pause or a shutdown
 * (the item was interrupted, it did not fail). Successes stand.
 */
export function afterAbort(next: ItemNext, reason: AbortReason | null): ItemNext {
  if (reason === null || next.status === ItemStatus.Success) return next;
  if (reason === 'cancel') return { status: ItemStatus.Cancelled, error: 'Cancelled while in flight' };
  return { status: ItemStatus.Queued, error: null, next: 0, refundAttempt: true };
}

/**
 * What an item's outcome does: success is final; a permanent failure, or a transient
 * one on the last allowed attempt, fails for good; any other failure is queued again
 * after the backoff (`attempt` counts from 1).
 */
export function itemNext(
  outcome: ItemOutcome,
  attempt: number,
  rules: {
    maxAttempts: number;
    retryBaseMs: number;
    /** Cap of a server's Retry-After (a hostile or broken server must not park an item for years). */
    maxRetryAfterMs: number;
    now: number;
    random?: () => number;
  },
): ItemNext {
  if (outcome.ok) return { status: ItemStatus.Success, result: outcome.result };
  const retryAfter = Math.min(Math.max(0, outcome.retryAfterMs ?? 0), rules.maxRetryAfterMs) || 0;
  if (outcome.deferred && !outcome.permanent)
    return {
      status: ItemStatus.Queued,
      error: outcome.error,
      next: rules.now + retryAfter,
      refundAttempt: true,
    };
  if (outcome.permanent || attempt >= rules.maxAttempts)
    return { status: ItemStatus.Failed, error: outcome.error };
  // Never before the server's Retry-After, whatever the backoff says.
  const wait = Math.max(retryBackoffMs(attempt, rules.retryBaseMs, rules.random), retryAfter);
  return { status: ItemStatus.Queued, error: outcome.error, next: rules.now + wait };
}
