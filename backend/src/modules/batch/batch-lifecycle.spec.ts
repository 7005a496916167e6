import Database from 'better-sqlite3';
import { sqliteDialect } from '../shared/database/sql-dialect';
import { accepts, cancelsRemaining, finalStatusSql, itemNext } from './batch-lifecycle';
import { BatchStatus, ItemStatus } from './batch-status';

describe('batch lifecycle', () => {
  describe(finalStatusSql.name, () => {
    const db = new Database(':memory:');
    afterAll(() => db.close());
    it.each([
      [{ status: 'processing', failedCount: 0, allowFailures: true }, BatchStatus.Completed],
      [{ status: 'processing', failedCount: 2, allowFailures: true }, BatchStatus.CompletedWithErrors],
      [{ status: 'processing', failedCount: 1, allowFailures: false }, BatchStatus.Failed],
      [{ status: 'cancelled', failedCount: 3, allowFailures: false }, BatchStatus.Cancelled],
    ])('ends %o as %s', (batch, expected) => {
      const row = db
        .prepare(
          `SELECT ${finalStatusSql(sqliteDialect)} AS "ends" FROM (SELECT ? AS "status", ? AS "failedCount", ? AS "options")`,
        )
        .get(batch.status, batch.failedCount, JSON.stringify({ allowFailures: batch.allowFailures })) as {
        ends: string;
      };
      expect(row.ends).toBe(expected);
    });
  });

  describe(accepts.name, () => {
    it('keeps cancelled batches final and retries only finished ones', () => {
      expect(accepts('retry', BatchStatus.Cancelled)).toBe(false);
      expect(accepts('retry', BatchStatus.Processing)).toBe(false);
      expect(accepts('retry', BatchStatus.CompletedWithErrors)).toBe(true);
      expect(accepts('retry', BatchStatus.Failed)).toBe(true);
    });

    it('pauses only running batches, resumes only paused ones, cancels any open one', () => {
      expect(accepts('pause', BatchStatus.Paused)).toBe(false);
      expect(accepts('resume', BatchStatus.Processing)).toBe(false);
      for (const status of [BatchStatus.Pending, BatchStatus.Processing, BatchStatus.Paused])
        expect(accepts('cancel', status)).toBe(true);
      for (const status of [BatchStatus.Completed, BatchStatus.Cancelled])
        expect(accepts('cancel', status)).toBe(false);
    });
  });

  describe(itemNext.name, () => {
    const rules = {
      maxAttempts: 3,
      retryBaseMs: 1000,
      maxRetryAfterMs: 3_600_000,
      now: 10_000,
      random: () => 0.5,
    };

    it('records a success with its result', () => {
      expect(itemNext({ ok: true, result: { id: 1 } }, 1, rules)).toEqual({
        status: ItemStatus.Success,
        result: { id: 1 },
      });
    });

    it('fails a permanent error for good on the first attempt', () => {
      expect(itemNext({ ok: false, error: 'bad doi', permanent: true }, 1, rules)).toEqual({
        status: ItemStatus.Failed,
        error: 'bad doi',
      });
    });

    it('queues a transient error again after the backoff, until the last attempt', () => {
      const transient = { ok: false as const, error: 'timeout', permanent: false };
      expect(itemNext(transient, 1, rules)).toEqual({
        status: ItemStatus.Queued,
        error: 'timeout',
        next: 11_000,
      });
      expect(itemNext(transient, 2, rules)).toEqual({
        status: ItemStatus.Queued,
        error: 'timeout',
        next: 12_000,
      });
      expect(itemNext(transient, 3, rules)).toEqual({ status: ItemStatus.Failed, error: 'timeout' });
    });

    it("waits for a server's Retry-After, never longer than the cap, whatever the server said", () => {
      const limited = (retryAfterMs: number) => ({
        ok: false as const,
        error: '429',
        permanent: false,
        retryAfterMs,
      });
      expect(itemNext(limited(30_000), 1, rules)).toMatchObject({ next: 40_000 });
      for (const huge of [999_999_999_000, 1e20, Number.POSITIVE_INFINITY])
        expect(itemNext(limited(huge), 1, rules)).toMatchObject({ next: 10_000 + 3_600_000 });
      for (const garbage of [-5000, Number.NaN])
        expect(itemNext(limited(garbage), 1, rules)).toMatchObject({ next: 11_000 });
    });

    it('queues a deferred item (it waited for a held key) with its attempt given back, even on the last attempt', () => {
      const deferred = {
        ok: false as const,
        error: 'held',
        permanent: false,
        retryAfterMs: 5000,
        deferred: true,
      };
      expect(itemNext(deferred, 3, rules)).toEqual({
        status: ItemStatus.Queued,
        error: 'held',
        next: 15_000,
        refundAttempt: true,
      });
    });
  });

  it('cancels what is left only when failures are not allowed', () => {
    expect(cancelsRemaining(1, false)).toBe(true);
    expect(cancelsRemaining(1, true)).toBe(false);
    expect(cancelsRemaining(0, false)).toBe(false);
  });
});
