import { Inject, Injectable } from '@nestjs/common';
import type { SqlExecutor } from '../shared/database/sql-executor';
import { ENGINE_DATABASE, type EngineDatabase } from '../shared/ports';
import type { OperationLimits } from './operations/batch-operation';

/**
 * All SQL of operation limits, shared by every process on the database: concurrency
 * slots leased by the chunk that uses them (a dead process's slots come back when the
 * lease ends, nothing leaks), sliding-window start counts, and holds on an operation's
 * calls to a key until a time (a host's Retry-After). Slots are taken inside the claim's
 * transaction, so a slot is taken exactly when the items it is for are claimed.
 */
@Injectable()
export class OperationLimitsRepository {
  private readonly seeded = new Set<string>();

  constructor(@Inject(ENGINE_DATABASE) private readonly db: EngineDatabase) {}

  /** When the hold on the operation's calls to `key` ends (epoch ms), or null when none runs at `now`. */
  async heldUntil(operation: string, key: string, now: number): Promise<number | null> {
    const [row] = await this.db.query<{ until: unknown }[]>(
      `SELECT "until" FROM "OperationHold" WHERE "operation" = ? AND "key" = ? AND "until" > ?`,
      operation,
      key,
      now,
    );
    return row?.until === null || row?.until === undefined ? null : Number(row.until);
  }

  /**
   * Leases up to `wanted` free slots to `holder` (within the concurrency and the current
   * rate window's remaining starts); returns the slot numbers.
   */
  async acquire(
    tx: SqlExecutor,
    operation: string,
    limits: OperationLimits,
    holder: string,
    now: number,
    leaseUntil: number,
    wanted: number,
  ): Promise<number[]> {
    const d = this.db.dialect;
    let allowance = wanted;
    if (limits.rate)
      allowance = Math.min(allowance, await this.rateAllowance(tx, operation, limits.rate, now));
    if (allowance <= 0) return [];
    const rows = await tx.$queryRawUnsafe<{ slot: unknown }[]>(
      `UPDATE "OperationSlot" SET "holder" = ?, "leaseExpiresAt" = ?
       WHERE "operation" = ? AND "slot" IN (
         SELECT "slot" FROM "OperationSlot"
         WHERE "operation" = ? AND "slot" < ${d.int} AND ("holder" IS NULL OR "leaseExpiresAt" < ?)
         ORDER BY "slot" LIMIT ${d.int}${d.skipLocked})
       RETURNING "slot"`,
      holder,
      leaseUntil,
      operation,
      operation,
      limits.concurrency,
      now,
      allowance,
    );
    return rows.map((r) => Number(r.slot)).sort((a, b) => a - b);
  }

  /**
   * How long until the sliding window allows another start (0: it allows one now): the
   * moment enough of the window's oldest starts have left it.
   */
  async rateWaitMs(
    tx: SqlExecutor,
    operation: string,
    rate: NonNullable<OperationLimits['rate']>,
    now: number,
  ): Promise<number> {
    const rows = await tx.$queryRawUnsafe<{ windowStart: unknown; count: unknown }[]>(
      `SELECT "windowStart", "count" FROM "OperationWindow"
       WHERE "operation" = ? AND "windowStart" > ? ORDER BY "windowStart"`,
      operation,
      now - rate.windowMs,
    );
    let excess = rows.reduce((sum, r) => sum + Number(r.count), 0) - rate.count + 1;
    for (const row of rows) {
      if (excess <= 0) break;
      excess -= Number(row.count);
      if (excess <= 0) return Math.max(0, Number(row.windowStart) + rate.windowMs - now);
    }
    return 0;
  }

  /**
   * Records `count` starts at `now` (the items actually claimed) and forgets starts that
   * have left the window.
   */
  async countStarts(
    tx: SqlExecutor,
    operation: string,
    rate: NonNullable<OperationLimits['rate']>,
    now: number,
    count: number,
  ): Promise<void> {
    const int = this.db.dialect.int;
    await tx.$executeRawUnsafe(
      `INSERT INTO "OperationWindow" ("operation", "windowStart", "count") VALUES (?, ?, ${int})
       ON CONFLICT ("operation", "windowStart") DO UPDATE SET "count" = "OperationWindow"."count" + EXCLUDED."count"`,
      operation,
      now,
      count,
    );
    await tx.$executeRawUnsafe(
      `DELETE FROM "OperationWindow" WHERE "operation" = ? AND "windowStart" >= 0 AND "windowStart" <= ?`,
      operation,
      now - rate.windowMs,
    );
  }

  /** Frees the given slots of `holder` (claimed fewer items than slots taken). */
  async releaseSome(tx: SqlExecutor, operation: string, holder: string, slots: number[]): Promise<void> {
    if (slots.length === 0) return;
    await tx.$executeRawUnsafe(
      `UPDATE "OperationSlot" SET "holder" = NULL, "leaseExpiresAt" = 0
       WHERE "operation" = ? AND "holder" = ? AND "slot" IN (${slots.map(() => this.db.dialect.int).join(', ')})`,
      operation,
      holder,
      ...slots,
    );
  }

  /** Frees every slot a chunk holds (its outcomes are recorded, or it failed). */
  release(holder: string): Promise<number> {
    return this.db.execute(
      `UPDATE "OperationSlot" SET "holder" = NULL, "leaseExpiresAt" = 0 WHERE "holder" = ?`,
      holder,
    );
  }

  /** Keeps a running chunk's slots (heartbeat, with its item leases). */
  renew(holder: string, until: number): Promise<number> {
    return this.db.execute(
      `UPDATE "OperationSlot" SET "leaseExpiresAt" = ? WHERE "holder" = ?`,
      until,
      holder,
    );
  }

  /** Holds the operation's calls to `key` (e.g. a host) until `until`; never shortens an existing hold. */
  async hold(operation: string, key: string, until: number): Promise<void> {
    await this.db.execute(
      `INSERT INTO "OperationHold" ("operation", "key", "until") VALUES (?, ?, ?)
       ON CONFLICT ("operation", "key") DO UPDATE SET "until" = CASE WHEN "OperationHold"."until" > EXCLUDED."until" THEN "OperationHold"."until" ELSE EXCLUDED."until" END`,
      operation,
      key,
      until,
    );
  }

  /**
   * Starts still allowed at `now`: the rate is a sliding window (at most `count` starts in
   * any `windowMs`), kept as one row per start time. Fixed windows allowed twice the rate
   * across a window edge, and a remote host counting in windows of its own sees exactly
   * that. The row at windowStart -1 is the operation's lock, so two processes on
   * PostgreSQL cannot both spend the last starts (SQLite serialises writers already).
   */
  private async rateAllowance(
    tx: SqlExecutor,
    operation: string,
    rate: NonNullable<OperationLimits['rate']>,
    now: number,
  ): Promise<number> {
    await tx.$executeRawUnsafe(
      `INSERT INTO "OperationWindow" ("operation", "windowStart", "count") VALUES (?, -1, 0) ON CONFLICT DO NOTHING`,
      operation,
    );
    await tx.$queryRawUnsafe(
      `SELECT "count" FROM "OperationWindow" WHERE "operation" = ? AND "windowStart" = -1${this.db.dialect.forUpdate}`,
      operation,
    );
    const [row] = await tx.$queryRawUnsafe<{ used: unknown }[]>(
      `SELECT COALESCE(SUM("count"), 0) AS "used" FROM "OperationWindow" WHERE "operation" = ? AND "windowStart" > ?`,
      operation,
      now - rate.windowMs,
    );
    return rate.count - Number(row?.used ?? 0);
  }

  /**
   * Creates the operation's slot rows (idempotent across processes), in a statement of its
   * own, outside any claim: it is remembered only once committed, so a claim that rolls
   * back (a deadlock victim) can never leave this process believing in slots that do not exist.
   */
  async ensureSeeded(operation: string, concurrency: number): Promise<void> {
    const key = `${operation}:${concurrency}`;
    if (this.seeded.has(key)) return;
    const values = Array.from({ length: concurrency }, () => `(?, ${this.db.dialect.int})`).join(', ');
    await this.db.execute(
      `INSERT INTO "OperationSlot" ("operation", "slot") VALUES ${values} ON CONFLICT DO NOTHING`,
      ...Array.from({ length: concurrency }, (_, slot) => [operation, slot]).flat(),
    );
    this.seeded.add(key);
  }
}
