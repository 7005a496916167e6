import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Prisma, PrismaClient } from '@prisma/client';
import { newestFirstAfter } from '../shared/cursor';
import { ENGINE_DATABASE, type EngineDatabase, PRISMA_CLIENT } from '../shared/ports';
import type { SqlExecutor } from '../shared/database/sql-executor';
import { BatchStatus, ItemStatus } from './batch-status';
import { finalStatusSql } from './batch-lifecycle';
import { OperationLimitsRepository } from './operation-limits.repository';
import type { OperationLimits } from './operations/batch-operation';
import { rowToBatch } from './batch-row.mapper';
import type { BatchRecord } from './batch.types';

export type Db = SqlExecutor;

export interface ClaimedRow {
  id: string;
  seq: number;
  /** The adapter parses JSON columns; older rows or other drivers may hand back text. */
  payload: unknown;
  attempts: number;
}

/** One item's outcome as written by recordOutcomes. `next` is the retry time (epoch ms) for requeued items. */
export interface OutcomeRow {
  id: string;
  status: ItemStatus.Success | ItemStatus.Failed | ItemStatus.Queued | ItemStatus.Cancelled;
  result?: unknown;
  error?: string | null;
  next?: number;
  /** Gives the claim's attempt back (the item was interrupted by a pause, it did not fail). */
  refundAttempt?: boolean;
}

/** Target of resume: back to pending if the batch never started, else processing. */
export const RESUMED_STATUS = 'resumed' as const;

/** How often a claim scans a batch from its start (expired leases, retries) instead of from where it left off. */
const FULL_SCAN_EVERY_MS = 500;

const ACTIVE = `('${BatchStatus.Pending}', '${BatchStatus.Processing}')`;

/** All SQL of the batch engine. Hot-path methods are a fixed number of set-based statements per chunk. */
@Injectable()
export class BatchRepository implements OnApplicationShutdown {
  private lastFullScanAt = 0;
  /** Per batch, the highest position this process claimed (where its next claim starts). */
  private readonly claimedThrough = new Map<string, number>();

  constructor(
    @Inject(ENGINE_DATABASE) private readonly db: EngineDatabase,
    @Inject(PRISMA_CLIENT) private readonly prisma: PrismaClient,
    private readonly limits: OperationLimitsRepository,
  ) {}

  /** Last step of shutdown (workers stop in onModuleDestroy): closes a connection the engine owns. */
  async onApplicationShutdown(): Promise<void> {
    await this.db.close?.();
  }

  /**
   * How a batch's items are stored: `size` items per insert transaction, `parallel` slices
   * at once. SQLite has one writer, so slices stay short, one at a time, and other writes get
   * in between. PostgreSQL writers do not block each other, and an insert there is mostly
   * the server's CPU: three slices on three connections store a large batch faster. The
   * batch stays unsealed (invisible to workers) until every slice is in.
   */
  get insertSlices(): { size: number; parallel: number } {
    return this.db.dialect.name === 'postgres' ? { size: 2000, parallel: 3 } : { size: 500, parallel: 1 };
  }

  /** A short write transaction on the engine's fast path. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async insertBatch(b: {
    id: string;
    userId: string;
    operation: string;
    itemCount: number;
    options: object;
    metadata: unknown;
    correlationId: string;
  }): Promise<void> {
    await this.prisma.batchOperation.create({
      data: {
        id: b.id,
        userId: b.userId,
        operation: b.operation,
        itemCount: b.itemCount,
        options: b.options,
        // Left out when absent: the column stays SQL NULL on either database.
        metadata:
          b.metadata === undefined || b.metadata === null ? undefined : (b.metadata as Prisma.InputJsonValue),
        correlationId: b.correlationId,
        status: BatchStatus.Pending,
        sealed: false,
      },
    });
  }

  /**
   * Stores one slice of items (positions firstSeq…) with a single INSERT … SELECT over a JSON array.
   * Item ids are `<batchId>.<seq>`: unique, and they append to the primary-key index instead of
   * scattering random keys across it.
   */
  async insertItems(
    db: Db,
    batchId: string,
    firstSeq: number,
    itemsJson: string,
    now: Date,
  ): Promise<number> {
    const at = this.db.dialect.timestamp(now);
    const columns = `"id", "batchId", "seq", "payload", "status", "attempts", "progress", "nextAttemptAt", "leaseExpiresAt", "createdAt", "updatedAt"`;
    const sql =
      this.db.dialect.name === 'postgres'
        ? `INSERT INTO "BatchJobItem" (${columns})
           SELECT ?::text || '.' || lpad((?::int + "ord" - 1)::text, 7, '0'), ?, ?::int + "ord" - 1, "value",
                  '${ItemStatus.Queued}', 0, 0, 0, 0, ?::timestamp(3), ?::timestamp(3)
           FROM jsonb_array_elements(?::jsonb) WITH ORDINALITY AS t("value", "ord")`
        : `INSERT INTO "BatchJobItem" (${columns})
           SELECT ? || '.' || printf('%07d', ? + "key"), ?, ? + "key", "value", '${ItemStatus.Queued}', 0, 0, 0, 0, ?, ?
           FROM json_each(?)`;
    return db.$executeRawUnsafe(sql, batchId, firstSeq, batchId, firstSeq, at, at, itemsJson);
  }

  /** Makes a fully stored batch claimable. */
  async seal(batchId: string): Promise<void> {
    await this.prisma.batchOperation.update({ where: { id: batchId }, data: { sealed: true } });
  }

  async deleteBatch(batchId: string): Promise<void> {
    await this.prisma.batchOperation.deleteMany({ where: { id: batchId } });
  }

  async findById(id: string): Promise<BatchRecord | null> {
    const rows = await this.db.query<Record<string, unknown>[]>(
      `SELECT * FROM "BatchOperation" WHERE "id" = ? AND "sealed" = TRUE`,
      id,
    );
    return rows.length > 0 ? rowToBatch(rows[0]) : null;
  }

  /**
   * Claims up to `limit` claimable items of the batch that has waited longest, in one
   * transaction: users take turns (least recently served user first), then batches
   * of that user. Claimable = queued and due, or processing with an expired lease.
   * Each claim stamps a fresh lease token that fences later writes. Expired leases
   * and queued items are two range scans of (batchId, status, seq), so the cost of a
   * claim does not grow with the items already done.
   */
  async claimChunk(
    workerId: string,
    leaseToken: string,
    now: number,
    leaseMs: number,
    defaultLimit: number,
    limitsOf: (operation: string) => OperationLimits | undefined = () => undefined,
  ): Promise<{ batch: BatchRecord; items: ClaimedRow[]; started: boolean } | null> {
    const d = this.db.dialect;
    return this.transaction(async (tx) => {
      const candidates = await tx.$queryRawUnsafe<
        { id: string; chunkSize: bigint | number | null; status: string; operation: string }[]
      >(
        `SELECT b."id", ${d.jsonInt('b."options"', 'chunkSize')} AS "chunkSize", b."status", b."operation"
         FROM "BatchOperation" b
         WHERE b."status" IN ${ACTIVE} AND b."sealed" = TRUE
         ORDER BY (SELECT MAX(u."lastClaimedAt") FROM "BatchOperation" u
                   WHERE u."userId" = b."userId" AND u."status" IN ${ACTIVE}), b."lastClaimedAt", b."createdAt"
         LIMIT 50`,
      );
      // A full scan (expired leases, and queued items from the start of the batch) runs at most
      // every FULL_SCAN_EVERY_MS; in between, a claim starts after the last position this process
      // claimed from the batch. On PostgreSQL every claimed or recorded item leaves a dead index
      // entry until vacuum, and walking them from the start on every claim made large batches
      // slow down as they progressed. Retries and other processes' expired leases, which lie
      // behind that position, are picked up by the next full scan.
      const fullScan = now - this.lastFullScanAt >= FULL_SCAN_EVERY_MS;
      if (fullScan) this.lastFullScanAt = now;
      for (const candidate of candidates) {
        let limit = Number(candidate.chunkSize ?? defaultLimit);
        // An operation with limits gets no more items than the slots it could lease (held
        // across processes); without a slot, or while held, its batches wait queued.
        const limits = limitsOf(candidate.operation);
        let slots: number[] = [];
        if (limits) {
          if ((await this.limits.heldUntil(tx, candidate.operation, now)) !== null) continue;
          slots = await this.limits.acquire(
            tx,
            candidate.operation,
            limits,
            leaseToken,
            now,
            now + leaseMs,
            limit,
          );
          if (slots.length === 0) continue;
          limit = slots.length;
        }
        // Expired leases first (a dead worker's items, in seq order), then due queued items.
        const expired = fullScan
          ? `SELECT "id" FROM (
               SELECT "id" FROM "BatchJobItem"
               WHERE "batchId" = ? AND "status" = '${ItemStatus.Processing}' AND "leaseExpiresAt" < ?
               ORDER BY "seq" LIMIT ${d.int}${d.skipLocked}) AS "expired"
             UNION ALL `
          : '';
        const items = await tx.$queryRawUnsafe<ClaimedRow[]>(
          `UPDATE "BatchJobItem"
           SET "status" = '${ItemStatus.Processing}', "attempts" = "attempts" + 1, "leaseOwner" = ?, "leaseToken" = ?,
               "leaseExpiresAt" = ?, "updatedAt" = ${d.ts}
           WHERE "id" IN (
             ${expired}SELECT "id" FROM (
               SELECT "id" FROM "BatchJobItem"
               WHERE "batchId" = ? AND "status" = '${ItemStatus.Queued}' AND "seq" > ? AND "nextAttemptAt" <= ?
               ORDER BY "seq" LIMIT ${d.int}${d.skipLocked}) AS "due"
             LIMIT ${d.int})
           RETURNING "id", "seq", "payload", "attempts"`,
          workerId,
          leaseToken,
          now + leaseMs,
          this.db.dialect.timestamp(now),
          ...(fullScan ? [candidate.id, now, limit] : []),
          candidate.id,
          fullScan ? -1 : (this.claimedThrough.get(candidate.id) ?? -1),
          now,
          limit,
          limit,
        );
        if (limits) {
          await this.limits.releaseSome(tx, candidate.operation, leaseToken, slots.slice(items.length));
          if (limits.rate && items.length > 0)
            await this.limits.countStarts(tx, candidate.operation, limits.rate, now, items.length);
        }
        if (items.length === 0) {
          if (fullScan) this.claimedThrough.delete(candidate.id);
          continue;
        }
        this.claimedThrough.set(candidate.id, Math.max(...items.map((i) => Number(i.seq))));
        const [row] = await tx.$queryRawUnsafe<Record<string, unknown>[]>(
          `UPDATE "BatchOperation"
           SET "lastClaimedAt" = ?, "status" = '${BatchStatus.Processing}', "startedAt" = COALESCE("startedAt", ${d.ts}),
               "updatedAt" = ${d.ts},
               "eventSeq" = "eventSeq" + 1
           WHERE "id" = ? RETURNING *`,
          now,
          this.db.dialect.timestamp(now),
          this.db.dialect.timestamp(now),
          candidate.id,
        );
        const claimed = items
          .map((i) => ({ id: i.id, seq: Number(i.seq), payload: i.payload, attempts: Number(i.attempts) }))
          .sort((a, b) => a.seq - b.seq);
        return { batch: rowToBatch(row), items: claimed, started: candidate.status === BatchStatus.Pending };
      }
      return null;
    });
  }

  /** Extends the lease of every item still held under `leaseToken`. */
  async renewLease(batchId: string, leaseToken: string, until: number): Promise<number> {
    return this.db.execute(
      `UPDATE "BatchJobItem" SET "leaseExpiresAt" = ?
       WHERE "batchId" = ? AND "status" = '${ItemStatus.Processing}' AND "leaseToken" = ?`,
      until,
      batchId,
      leaseToken,
    );
  }

  /**
   * Inside the chunk's transaction: the ids still held under `leaseToken`. A worker that
   * lost its lease gets back only what it still owns, before it writes any effect.
   */
  async heldItemIds(db: Db, batchId: string, leaseToken: string): Promise<Set<string>> {
    const rows = await db.$queryRawUnsafe<{ id: string }[]>(
      `SELECT "id" FROM "BatchJobItem" WHERE "batchId" = ? AND "status" = '${ItemStatus.Processing}' AND "leaseToken" = ?`,
      batchId,
      leaseToken,
    );
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Writes the chunk's outcomes with one UPDATE … FROM json_each, only where the lease
   * token still matches (fencing), and moves the batch counters by exactly the rows
   * written, in the same transaction. Returns the batch after the update.
   */
  async recordOutcomes(
    db: Db,
    batchId: string,
    leaseToken: string,
    outcomes: OutcomeRow[],
    now: number,
  ): Promise<{ batch: BatchRecord; failedForGood: number; written: number }> {
    const payload = JSON.stringify(
      outcomes.map((o) => ({
        id: o.id,
        s: o.status,
        r: o.result === undefined ? null : o.result,
        e: o.error ?? null,
        n: o.next ?? 0,
        a: o.refundAttempt ? -1 : 0,
      })),
    );
    const d = this.db.dialect;
    const written = await db.$queryRawUnsafe<{ status: string }[]>(
      `UPDATE "BatchJobItem"
       SET "status" = o."s",
           "result" = CASE WHEN o."s" = '${ItemStatus.Success}' THEN o."r" ELSE "result" END,
           "error" = o."e",
           "nextAttemptAt" = o."n", "attempts" = "attempts" + o."a",
           "progress" = CASE WHEN o."s" = '${ItemStatus.Queued}' THEN 0 ELSE 100 END,
           "leaseOwner" = NULL, "leaseToken" = NULL, "leaseExpiresAt" = 0, "updatedAt" = ${d.ts}
       FROM ${d.jsonRecords('o', [
         ['id', 'text'],
         ['s', 'text'],
         ['r', 'jsonb'],
         ['e', 'text'],
         ['n', 'bigint'],
         ['a', 'int'],
       ])}
       WHERE "BatchJobItem"."id" = o."id" AND "BatchJobItem"."leaseToken" = ? AND "BatchJobItem"."status" = '${ItemStatus.Processing}'
       RETURNING "BatchJobItem"."status" AS "status"`,
      this.db.dialect.timestamp(now),
      payload,
      leaseToken,
    );
    const succeeded = written.filter((w) => w.status === ItemStatus.Success).length;
    const failed = written.filter((w) => w.status === ItemStatus.Failed).length;
    const cancelled = written.filter((w) => w.status === ItemStatus.Cancelled).length;
    const batch = await this.moveCounters(db, batchId, { succeeded, failed, cancelled }, now);
    return { batch, failedForGood: failed, written: written.length };
  }

  async moveCounters(
    db: Db,
    batchId: string,
    delta: { succeeded: number; failed: number; cancelled: number },
    now: number,
  ): Promise<BatchRecord> {
    const [row] = await db.$queryRawUnsafe<Record<string, unknown>[]>(
      `UPDATE "BatchOperation"
       SET "succeededCount" = "succeededCount" + ?, "failedCount" = "failedCount" + ?,
           "processedCount" = "processedCount" + ?, "cancelledCount" = "cancelledCount" + ?, "updatedAt" = ${this.db.dialect.ts},
           "eventSeq" = "eventSeq" + 1
       WHERE "id" = ? RETURNING *`,
      delta.succeeded,
      delta.failed,
      delta.succeeded + delta.failed,
      delta.cancelled,
      this.db.dialect.timestamp(now),
      batchId,
    );
    return rowToBatch(row);
  }

  /**
   * Cancels the batch's queued items (and processing items whose lease expired, whose
   * worker is gone) and counts them, in one statement group.
   */
  async cancelRemaining(db: Db, batchId: string, now: number): Promise<BatchRecord> {
    const cancelled = await db.$executeRawUnsafe(
      `UPDATE "BatchJobItem" SET "status" = '${ItemStatus.Cancelled}', "leaseOwner" = NULL, "leaseToken" = NULL,
              "leaseExpiresAt" = 0, "updatedAt" = ${this.db.dialect.ts}
       WHERE "batchId" = ? AND ("status" = '${ItemStatus.Queued}' OR ("status" = '${ItemStatus.Processing}' AND "leaseExpiresAt" < ?))`,
      this.db.dialect.timestamp(now),
      batchId,
      now,
    );
    return this.moveCounters(db, batchId, { succeeded: 0, failed: 0, cancelled: cancelled }, now);
  }

  /**
   * Ends the batch if every item is settled and it has not ended yet; returns it only
   * when this call ended it (so exactly one caller announces the end).
   */
  async finishIfSettled(db: Db, batchId: string, now: number): Promise<BatchRecord | null> {
    const rows = await db.$queryRawUnsafe<Record<string, unknown>[]>(
      `UPDATE "BatchOperation"
       SET "status" = ${finalStatusSql(this.db.dialect)},
           "finishedAt" = ${this.db.dialect.ts}, "updatedAt" = ${this.db.dialect.ts}, "eventSeq" = "eventSeq" + 1
       WHERE "id" = ? AND "finishedAt" IS NULL AND "processedCount" + "cancelledCount" = "itemCount"
       RETURNING *`,
      this.db.dialect.timestamp(now),
      this.db.dialect.timestamp(now),
      batchId,
    );
    return rows.length > 0 ? rowToBatch(rows[0]) : null;
  }

  /**
   * Moves the batch from one of `from` to `to` (a status, or RESUMED_STATUS); false when
   * it was in none of them. The check and the change are one statement.
   */
  async transition(
    db: Db,
    batchId: string,
    from: readonly BatchStatus[],
    to: BatchStatus | typeof RESUMED_STATUS,
    now: number,
  ): Promise<boolean> {
    const target =
      to === RESUMED_STATUS
        ? `CASE WHEN "startedAt" IS NULL THEN '${BatchStatus.Pending}' ELSE '${BatchStatus.Processing}' END`
        : `'${to}'`;
    const changed = await db.$executeRawUnsafe(
      `UPDATE "BatchOperation" SET "status" = ${target}, "updatedAt" = ${this.db.dialect.ts}, "eventSeq" = "eventSeq" + 1
       WHERE "id" = ? AND "status" IN (${from.map((s) => `'${s}'`).join(', ')})`,
      this.db.dialect.timestamp(now),
      batchId,
    );
    return changed > 0;
  }

  /**
   * Queues failed items again (all, or the listed ids) with attempts reset; for a batch
   * that ended `failed`, items cancelled by that failure are queued too. Counters move
   * by exactly the rows changed. Returns how many items were requeued.
   */
  async requeueFailed(
    db: Db,
    batchId: string,
    itemIds: string[] | undefined,
    includeCancelled: boolean,
    now: number,
  ) {
    const statuses = includeCancelled
      ? `('${ItemStatus.Failed}', '${ItemStatus.Cancelled}')`
      : `('${ItemStatus.Failed}')`;
    const filter = itemIds ? `AND "id" IN (${this.db.dialect.jsonStrings()})` : '';
    const args: unknown[] = [this.db.dialect.timestamp(now), batchId];
    if (itemIds) args.push(JSON.stringify(itemIds));
    const rows = await db.$queryRawUnsafe<{ id: string }[]>(
      `UPDATE "BatchJobItem" SET "status" = '${ItemStatus.Queued}', "attempts" = 0, "error" = NULL, "result" = NULL,
              "nextAttemptAt" = 0, "progress" = 0, "updatedAt" = ${this.db.dialect.ts}
       WHERE "batchId" = ? AND "status" IN ${statuses} ${filter}
       RETURNING "id"`,
      ...args,
    );
    return rows.length;
  }

  /** Recounts the counters from the item rows after a requeue and reopens the batch, in one statement. */
  async reopen(db: Db, batchId: string, now: number): Promise<BatchRecord> {
    const [row] = await db.$queryRawUnsafe<Record<string, unknown>[]>(
      `UPDATE "BatchOperation" SET
         "succeededCount" = c."s", "failedCount" = c."f", "cancelledCount" = c."c", "processedCount" = c."s" + c."f",
         "status" = '${BatchStatus.Processing}', "finishedAt" = NULL, "updatedAt" = ${this.db.dialect.ts}, "eventSeq" = "eventSeq" + 1
       FROM (SELECT COALESCE(SUM(CASE WHEN "status" = '${ItemStatus.Success}' THEN 1 ELSE 0 END), 0) AS "s",
                    COALESCE(SUM(CASE WHEN "status" = '${ItemStatus.Failed}' THEN 1 ELSE 0 END), 0) AS "f",
                    COALESCE(SUM(CASE WHEN "status" = '${ItemStatus.Cancelled}' THEN 1 ELSE 0 END), 0) AS "c"
             FROM "BatchJobItem" WHERE "batchId" = ?) AS c
       WHERE "id" = ? RETURNING *`,
      this.db.dialect.timestamp(now),
      batchId,
      batchId,
    );
    return rowToBatch(row);
  }

  /** Finished batches past retention, and unsealed ones a dead process left behind. */
  async findExpired(filter: {
    finishedBefore: Date;
    unsealedBefore: Date;
    limit: number;
  }): Promise<string[]> {
    const rows = await this.prisma.batchOperation.findMany({
      where: {
        OR: [
          { finishedAt: { lt: filter.finishedBefore } },
          { sealed: false, createdAt: { lt: filter.unsealedBefore } },
        ],
      },
      select: { id: true },
      take: filter.limit,
    });
    return rows.map((r) => r.id);
  }

  /** Deletes up to `slice` items of a batch: short statements, so no delete holds the write lock for long. */
  deleteItemsSlice(batchId: string, slice: number): Promise<number> {
    return this.db.execute(
      `DELETE FROM "BatchJobItem" WHERE "id" IN (SELECT "id" FROM "BatchJobItem" WHERE "batchId" = ? LIMIT ${slice})`,
      batchId,
    );
  }

  /** The last progress reported inside an item, written only while the chunk's lease is held. */
  async storeItemProgress(
    itemId: string,
    leaseToken: string,
    stage: string,
    percentage: number,
  ): Promise<void> {
    await this.db.execute(
      `UPDATE "BatchJobItem" SET "stage" = ?, "progress" = ? WHERE "id" = ? AND "leaseToken" = ?`,
      stage,
      percentage,
      itemId,
      leaseToken,
    );
  }

  /** The batch's status now (the worker watches for a cancel or pause while items are in flight). */
  async statusOf(batchId: string): Promise<string | null> {
    const rows = await this.db.query<{ status: string }[]>(
      `SELECT "status" FROM "BatchOperation" WHERE "id" = ?`,
      batchId,
    );
    return rows[0]?.status ?? null;
  }

  /** Newest first, keyset-paginated on (createdAt, id). */
  async listBatches(filter: {
    userId?: string;
    status?: string;
    limit: number;
    after?: { createdAt: Date; id: string };
  }) {
    const keyset = newestFirstAfter(filter.after);
    const rows = await this.prisma.batchOperation.findMany({
      where: { sealed: true, userId: filter.userId, status: filter.status, ...keyset.where },
      orderBy: keyset.orderBy,
      take: filter.limit + 1,
    });
    return rows.map((r) => rowToBatch(r as unknown as Record<string, unknown>));
  }

  /** By position, keyset-paginated on seq. */
  async listItems(filter: { batchId: string; status?: string; limit: number; afterSeq?: number }) {
    return this.prisma.batchJobItem.findMany({
      where: {
        batchId: filter.batchId,
        status: filter.status,
        seq: filter.afterSeq === undefined ? undefined : { gt: filter.afterSeq },
      },
      orderBy: { seq: 'asc' },
      take: filter.limit + 1,
      select: {
        id: true,
        seq: true,
        status: true,
        attempts: true,
        error: true,
        result: true,
        payload: true,
        progress: true,
        stage: true,
        updatedAt: true,
      },
    });
  }
}
