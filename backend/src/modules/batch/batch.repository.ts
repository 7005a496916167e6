import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Prisma, PrismaClient } from '@prisma/client';
import { ENGINE_DATABASE, type EngineDatabase, PRISMA_CLIENT } from '../shared/ports';
import { CoalescedReads } from '../shared/database/coalesced-reads';
import type { SqlExecutor } from '../shared/database/sql-executor';
import { type DialectName, likeEscaped } from '../shared/database/sql-dialect';
import { BatchStatus, ItemStatus } from './batch-status';
import { finalStatusSql } from './batch-lifecycle';
import { rowToBatch } from './batch-row.mapper';
import { type BatchRecord, takesItems } from './batch.types';
import type { ExportRow } from './item-export';

export type Db = SqlExecutor;

/** Target of resume: back to pending if the batch never started, else processing. */
export const RESUMED_STATUS = 'resumed' as const;

export const ACTIVE = `('${BatchStatus.Pending}', '${BatchStatus.Processing}')`;

/**
 * The SQL of batches as a whole: storing, reading, counters, status moves, requeue,
 * cancel and retention. Chunks (claim, lease, outcomes) are `ChunkRepository`'s.
 */
@Injectable()
export class BatchRepository implements OnApplicationShutdown {
  /**
   * On PostgreSQL, reads of batches by id that arrive while one is on its way share the next
   * statement (the API under load: `GET /batches/:id`, socket snapshots, every route that
   * checks who owns a batch). SQLite answers in-process, without a round trip to save.
   */
  private readonly byId?: CoalescedReads<string, Record<string, unknown>>;

  constructor(
    @Inject(ENGINE_DATABASE) private readonly db: EngineDatabase,
    @Inject(PRISMA_CLIENT) private readonly prisma: PrismaClient,
  ) {
    if (db.dialect.name === 'postgres')
      this.byId = new CoalescedReads(async (ids) => {
        const rows = await db.query<Record<string, unknown>[]>(
          `SELECT * FROM "BatchOperation" WHERE "id" IN (${db.dialect.jsonStrings()}) AND "sealed" = TRUE`,
          JSON.stringify(ids),
        );
        return new Map(rows.map((row) => [String(row.id), row]));
      });
  }

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
    return this.dialect === 'postgres' ? { size: 2000, parallel: 3 } : { size: 500, parallel: 1 };
  }

  get dialect(): DialectName {
    return this.db.dialect.name;
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
  }): Promise<number> {
    const row = await this.prisma.batchOperation.create({
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
      select: { key: true },
    });
    return row.key;
  }

  /**
   * Stores one slice of items (positions firstSeq…) with a single INSERT … SELECT over a JSON array.
   * The primary key (batchKey, seq) is the item's only index, and a slice appends to it.
   */
  async insertItems(
    db: Db,
    batchKey: number,
    firstSeq: number,
    itemsJson: string,
    now: Date,
  ): Promise<number> {
    const columns = `"batchKey", "seq", "payload", "status", "attempts", "progress", "nextAttemptAt", "updatedAt"`;
    const sql =
      this.db.dialect.name === 'postgres'
        ? `INSERT INTO "BatchJobItem" (${columns})
           SELECT ?::int, ?::int + "ord" - 1, "value", '${ItemStatus.Queued}', 0, 0, 0, ?::bigint
           FROM jsonb_array_elements(?::jsonb) WITH ORDINALITY AS t("value", "ord")`
        : `INSERT INTO "BatchJobItem" (${columns})
           SELECT ?, ? + "key", "value", '${ItemStatus.Queued}', 0, 0, 0, ?
           FROM json_each(?)`;
    return db.$executeRawUnsafe(sql, batchKey, firstSeq, now.getTime(), itemsJson);
  }

  /**
   * Appends items to a batch that takes them (`takesItems`: not ended, or ended but still
   * in its open window, which reopens it: `processing` again, not finished), in one
   * transaction: the batch row is locked, the items get the positions after its last one,
   * and `itemCount` moves with them, so claims see all of them or none and the batch cannot
   * end in between. Refused (nothing stored) when the batch stopped taking items meanwhile,
   * or when the items would take it past `maxItems`.
   */
  async appendItems(
    batchKey: number,
    itemsJson: string[],
    maxItems: number,
    now: number,
  ): Promise<{ batch: BatchRecord } | { refused: 'ended' | 'too_large'; itemCount: number }> {
    const d = this.db.dialect;
    return this.transaction(async (tx) => {
      const [row] = await tx.$queryRawUnsafe<Record<string, unknown>[]>(
        `SELECT * FROM "BatchOperation" WHERE "key" = ? AND "sealed" = TRUE${d.forUpdate}`,
        batchKey,
      );
      const current = row ? rowToBatch(row) : null;
      const itemCount = current?.itemCount ?? 0;
      if (!current || !takesItems(current, now)) return { refused: 'ended' as const, itemCount };
      if (itemCount + itemsJson.length > maxItems) return { refused: 'too_large' as const, itemCount };
      const { size } = this.insertSlices;
      for (let start = 0; start < itemsJson.length; start += size)
        await this.insertItems(
          tx,
          batchKey,
          itemCount + start,
          `[${itemsJson.slice(start, start + size).join(',')}]`,
          new Date(now),
        );
      const [updated] = await tx.$queryRawUnsafe<Record<string, unknown>[]>(
        `UPDATE "BatchOperation" SET "itemCount" = "itemCount" + ${d.int}, "updatedAt" = ${d.ts}, "eventSeq" = "eventSeq" + 1,
           "status" = CASE WHEN "finishedAt" IS NULL THEN "status" ELSE '${BatchStatus.Processing}' END, "finishedAt" = NULL
         WHERE "key" = ? RETURNING *`,
        itemsJson.length,
        d.timestamp(now),
        batchKey,
      );
      return { batch: rowToBatch(updated) };
    });
  }

  /** Makes a fully stored batch claimable. */
  async seal(batchId: string): Promise<void> {
    await this.prisma.batchOperation.update({ where: { id: batchId }, data: { sealed: true } });
  }

  async deleteBatch(batchId: string): Promise<void> {
    await this.prisma.batchOperation.deleteMany({ where: { id: batchId } });
  }

  async findById(id: string): Promise<BatchRecord | null> {
    if (this.byId) {
      const row = await this.byId.load(id);
      return row ? rowToBatch(row) : null;
    }
    const rows = await this.db.query<Record<string, unknown>[]>(
      `SELECT * FROM "BatchOperation" WHERE "id" = ? AND "sealed" = TRUE`,
      id,
    );
    return rows.length > 0 ? rowToBatch(rows[0]) : null;
  }

  async moveCounters(
    db: Db,
    batchKey: number,
    delta: { succeeded: number; failed: number; cancelled: number },
    now: number,
  ): Promise<BatchRecord> {
    const [row] = await db.$queryRawUnsafe<Record<string, unknown>[]>(
      `UPDATE "BatchOperation"
       SET "succeededCount" = "succeededCount" + ?, "failedCount" = "failedCount" + ?,
           "processedCount" = "processedCount" + ?, "cancelledCount" = "cancelledCount" + ?, "updatedAt" = ${this.db.dialect.ts},
           "eventSeq" = "eventSeq" + 1
       WHERE "key" = ? RETURNING *`,
      delta.succeeded,
      delta.failed,
      delta.succeeded + delta.failed,
      delta.cancelled,
      this.db.dialect.timestamp(now),
      batchKey,
    );
    return rowToBatch(row);
  }

  /**
   * Cancels the batch's queued items except those of live chunks (they finish, or are
   * aborted and recorded by their worker), and counts them, in one statement group. A dead
   * worker's chunks go: their items are cancelled with the rest.
   */
  async cancelRemaining(db: Db, batchKey: number, now: number): Promise<BatchRecord> {
    await db.$executeRawUnsafe(
      `DELETE FROM "BatchChunk" WHERE "batchKey" = ? AND "leaseExpiresAt" < ?`,
      batchKey,
      now,
    );
    // nextAttemptAt back to 0: a cancelled item leaves the retry index.
    const cancelled = await db.$executeRawUnsafe(
      `UPDATE "BatchJobItem" SET "status" = '${ItemStatus.Cancelled}', "nextAttemptAt" = 0, "updatedAt" = ${this.db.dialect.bigint}
       WHERE "batchKey" = ? AND "status" = '${ItemStatus.Queued}' AND NOT EXISTS (
         SELECT 1 FROM "BatchChunk" c
         WHERE c."batchKey" = "BatchJobItem"."batchKey" AND "BatchJobItem"."seq" >= c."fromSeq" AND "BatchJobItem"."seq" <= c."toSeq")`,
      now,
      batchKey,
    );
    return this.moveCounters(db, batchKey, { succeeded: 0, failed: 0, cancelled: cancelled }, now);
  }

  /**
   * Cancelled batches that a dead process left open: their last chunk was in flight at the
   * cancel and its lease ran out without an outcome, so its items are still queued in a
   * batch that nobody claims. A read; `settleCancelled` ends them.
   */
  async abandonedCancels(now: number): Promise<number[]> {
    const rows = await this.db.query<{ key: unknown }[]>(
      `SELECT b."key" FROM "BatchOperation" b
       WHERE b."status" = '${BatchStatus.Cancelled}' AND b."finishedAt" IS NULL
         AND NOT EXISTS (SELECT 1 FROM "BatchChunk" c WHERE c."batchKey" = b."key" AND c."leaseExpiresAt" >= ?)
       LIMIT 20`,
      now,
    );
    return rows.map((r) => Number(r.key));
  }

  /** Cancels what is left of a cancelled batch and ends it; the batch when this call ended it. */
  async settleCancelled(db: Db, batchKey: number, now: number): Promise<BatchRecord | null> {
    await this.cancelRemaining(db, batchKey, now);
    return this.finishIfSettled(db, batchKey, now);
  }

  /**
   * Ends the batch if every item is settled and it has not ended yet; returns it only
   * when this call ended it (so exactly one caller announces the end).
   */
  async finishIfSettled(db: Db, batchKey: number, now: number): Promise<BatchRecord | null> {
    const rows = await db.$queryRawUnsafe<Record<string, unknown>[]>(
      `UPDATE "BatchOperation"
       SET "status" = ${finalStatusSql(this.db.dialect)},
           "finishedAt" = ${this.db.dialect.ts}, "updatedAt" = ${this.db.dialect.ts}, "eventSeq" = "eventSeq" + 1
       WHERE "key" = ? AND "finishedAt" IS NULL AND "processedCount" + "cancelledCount" = "itemCount"
       RETURNING *`,
      this.db.dialect.timestamp(now),
      this.db.dialect.timestamp(now),
      batchKey,
    );
    return rows.length > 0 ? rowToBatch(rows[0]) : null;
  }

  /**
   * Moves the batch from one of `from` to `to` (a status, or RESUMED_STATUS); false when
   * it was in none of them. The check and the change are one statement.
   */
  async transition(
    db: Db,
    batchKey: number,
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
       WHERE "key" = ? AND "status" IN (${from.map((s) => `'${s}'`).join(', ')})`,
      this.db.dialect.timestamp(now),
      batchKey,
    );
    return changed > 0;
  }

  /**
   * Queues failed items again (all, those at the listed positions, or those of one error
   * group) with attempts reset;
   * for a batch that ended `failed`, items cancelled by that failure are queued too. They
   * are due at once and, behind claimedSeq, in the retry index (nextAttemptAt 1). Counters
   * move by exactly the rows changed. Returns how many items were requeued.
   */
  async requeueFailed(
    db: Db,
    batchKey: number,
    seqs: number[] | undefined,
    group: { error: string | null; errorCategory: string | null } | undefined,
    includeCancelled: boolean,
    now: number,
  ): Promise<number> {
    // A group names failed items only (cancelled ones have no error).
    const statuses =
      includeCancelled && !group
        ? `('${ItemStatus.Failed}', '${ItemStatus.Cancelled}')`
        : `('${ItemStatus.Failed}')`;
    let filter = seqs ? `AND "seq" IN (${this.db.dialect.jsonInts()})` : '';
    const args: unknown[] = [now, batchKey];
    if (seqs) args.push(JSON.stringify(seqs));
    if (group) {
      for (const column of ['error', 'errorCategory'] as const) {
        filter += group[column] === null ? ` AND "${column}" IS NULL` : ` AND "${column}" = ?`;
        if (group[column] !== null) args.push(group[column]);
      }
    }
    return db.$executeRawUnsafe(
      `UPDATE "BatchJobItem" SET "status" = '${ItemStatus.Queued}', "attempts" = 0, "error" = NULL, "errorCategory" = NULL, "retryable" = NULL, "result" = NULL,
              "nextAttemptAt" = 1, "progress" = 0, "updatedAt" = ${this.db.dialect.bigint}
       WHERE "batchKey" = ? AND "status" IN ${statuses} ${filter}`,
      ...args,
    );
  }

  /** Recounts the counters from the item rows after a requeue and reopens the batch, in one statement. */
  async reopen(db: Db, batchKey: number, now: number): Promise<BatchRecord> {
    const [row] = await db.$queryRawUnsafe<Record<string, unknown>[]>(
      `UPDATE "BatchOperation" SET
         "succeededCount" = c."s", "failedCount" = c."f", "cancelledCount" = c."c", "processedCount" = c."s" + c."f",
         "status" = '${BatchStatus.Processing}', "finishedAt" = NULL, "updatedAt" = ${this.db.dialect.ts}, "eventSeq" = "eventSeq" + 1
       FROM (SELECT COALESCE(SUM(CASE WHEN "status" = '${ItemStatus.Success}' THEN 1 ELSE 0 END), 0) AS "s",
                    COALESCE(SUM(CASE WHEN "status" = '${ItemStatus.Failed}' THEN 1 ELSE 0 END), 0) AS "f",
                    COALESCE(SUM(CASE WHEN "status" = '${ItemStatus.Cancelled}' THEN 1 ELSE 0 END), 0) AS "c"
             FROM "BatchJobItem" WHERE "batchKey" = ?) AS c
       WHERE "key" = ? RETURNING *`,
      this.db.dialect.timestamp(now),
      batchKey,
      batchKey,
    );
    return rowToBatch(row);
  }

  /** Finished batches past retention, and unsealed ones a dead process left behind. */
  async findExpired(filter: {
    finishedBefore: Date;
    unsealedBefore: Date;
    limit: number;
  }): Promise<{ key: number; id: string }[]> {
    const rows = await this.prisma.batchOperation.findMany({
      where: {
        OR: [
          { finishedAt: { lt: filter.finishedBefore } },
          { sealed: false, createdAt: { lt: filter.unsealedBefore } },
        ],
      },
      select: { key: true, id: true },
      take: filter.limit,
    });
    return rows;
  }

  /** Deletes up to `slice` items of a batch: short statements, so no delete holds the write lock for long. */
  deleteItemsSlice(batchKey: number, slice: number): Promise<number> {
    return this.db.execute(
      `DELETE FROM "BatchJobItem" WHERE "batchKey" = ?
         AND "seq" IN (SELECT "seq" FROM "BatchJobItem" WHERE "batchKey" = ? ORDER BY "seq" LIMIT ${slice})`,
      batchKey,
      batchKey,
    );
  }

  /** The batch's status now (the worker watches for a cancel or pause while items are in flight). */
  async statusOf(batchKey: number): Promise<string | null> {
    const rows = await this.db.query<{ status: string }[]>(
      `SELECT "status" FROM "BatchOperation" WHERE "key" = ?`,
      batchKey,
    );
    return rows[0]?.status ?? null;
  }

  /**
   * Newest first, keyset-paginated on (createdAt, id), filtered by owner, status,
   * operation and a text (`q`: part of the id or of the metadata's JSON, any case).
   */
  async listBatches(filter: {
    userId?: string;
    status?: string;
    operation?: string;
    q?: string;
    limit: number;
    after?: { createdAt: Date; id: string };
  }) {
    const d = this.db.dialect;
    const where = [`"sealed" = TRUE`];
    const args: unknown[] = [];
    for (const column of ['userId', 'status', 'operation'] as const) {
      if (filter[column] === undefined) continue;
      where.push(`"${column}" = ?`);
      args.push(filter[column]);
    }
    if (filter.q) {
      where.push(`(${d.containsText('"id"')} OR ${d.containsText('"metadata"')})`);
      args.push(likeEscaped(filter.q), likeEscaped(filter.q));
    }
    if (filter.after) {
      where.push(`("createdAt" < ${d.ts} OR ("createdAt" = ${d.ts} AND "id" < ?))`);
      const at = d.timestamp(filter.after.createdAt);
      args.push(at, at, filter.after.id);
    }
    const rows = await this.db.query<Record<string, unknown>[]>(
      `SELECT * FROM "BatchOperation" WHERE ${where.join(' AND ')}
       ORDER BY "createdAt" DESC, "id" DESC LIMIT ${filter.limit + 1}`,
      ...args,
    );
    return rows.map(rowToBatch);
  }

  /**
   * Settled items per time bucket from `from` (epoch ms), by outcome: the stored history
   * of a batch's throughput (an item counts when its last outcome was recorded).
   */
  async settledPerBucket(batchKey: number, from: number, bucketMs: number) {
    const rows = await this.db.query<{ b: unknown; status: string; n: unknown }[]>(
      `SELECT ("updatedAt" - ?) / ? AS "b", "status", COUNT(*) AS "n"
       FROM "BatchJobItem"
       WHERE "batchKey" = ? AND "status" IN ('${ItemStatus.Success}', '${ItemStatus.Failed}', '${ItemStatus.Cancelled}')
       GROUP BY 1, 2`,
      from,
      bucketMs,
      batchKey,
    );
    return rows.map((r) => ({ bucket: Math.floor(Number(r.b)), status: r.status, count: Number(r.n) }));
  }

  /** A batch's failed items grouped by error and category, the largest groups first. */
  async failureGroups(batchKey: number, limit: number) {
    const rows = await this.db.query<
      {
        error: string | null;
        errorCategory: string | null;
        retryable: unknown;
        n: unknown;
        firstSeq: unknown;
      }[]
    >(
      `SELECT "error", "errorCategory", MAX(CASE WHEN "retryable" THEN 1 ELSE 0 END) AS "retryable",
              COUNT(*) AS "n", MIN("seq") AS "firstSeq"
       FROM "BatchJobItem" WHERE "batchKey" = ? AND "status" = '${ItemStatus.Failed}'
       GROUP BY "error", "errorCategory" ORDER BY 4 DESC, 5 LIMIT ${limit}`,
      batchKey,
    );
    return rows.map((r) => ({
      error: r.error,
      errorCategory: r.errorCategory,
      retryable: Number(r.retryable) === 1,
      count: Number(r.n),
      firstSeq: Number(r.firstSeq),
    }));
  }

  /**
   * A page of a batch's items after position `afterSeq`, in order, at most `take`: a queued
   * item inside a chunk's range is being processed, so it is read (and filtered) as
   * `processing`, its attempt in flight counted, as the worker counts it. One statement on
   * the engine's connection for the list and the export alike; `payload` and `result` come
   * as the driver gives them (JSON text on SQLite, parsed jsonb on PostgreSQL).
   */
  private async itemPage(filter: {
    batchKey: number;
    status?: string;
    afterSeq: number;
    take: number;
  }): Promise<Record<string, unknown>[]> {
    const d = this.db.dialect;
    const queued = `i."status" = '${ItemStatus.Queued}'`;
    const inChunk = `EXISTS (SELECT 1 FROM "BatchChunk" c
      WHERE c."batchKey" = i."batchKey" AND i."seq" >= c."fromSeq" AND i."seq" <= c."toSeq")`;
    const byStatus =
      filter.status === undefined
        ? ''
        : filter.status === ItemStatus.Processing
          ? ` AND ${queued} AND ${inChunk}`
          : filter.status === ItemStatus.Queued
            ? ` AND ${queued} AND NOT ${inChunk}`
            : ` AND i."status" = ?`;
    const rows = await this.db.query<Record<string, unknown>[]>(
      `SELECT i."seq", i."status", i."attempts", i."error", i."errorCategory", i."retryable", i."result", i."payload",
              i."progress", i."stage", i."nextAttemptAt", i."updatedAt",
              CASE WHEN ${queued} AND ${inChunk} THEN 1 ELSE 0 END AS "inChunk"
       FROM "BatchJobItem" i
       WHERE i."batchKey" = ? AND i."seq" > ${d.int}${byStatus}
       ORDER BY i."seq" LIMIT ${d.int}`,
      filter.batchKey,
      filter.afterSeq,
      ...(byStatus.endsWith('?') ? [filter.status] : []),
      filter.take,
    );
    for (const row of rows) {
      if (Number(row.inChunk) !== 1) continue;
      row.status = ItemStatus.Processing;
      row.attempts = Number(row.attempts) + 1;
    }
    return rows;
  }

  /** A JSON column's value as JSON text, null when SQL NULL or JSON null. */
  private jsonText(value: unknown): string | null {
    if (this.db.dialect.name === 'postgres') return value === null ? null : JSON.stringify(value);
    return value === null || value === 'null' ? null : (value as string);
  }

  /**
   * One page of an export, after position `afterSeq`, with payload and result as JSON text.
   * On SQLite that is the text as stored, handed to the export as it is; the ORM's rows
   * (every column parsed, then serialized again by the export) made an export's memory
   * grow by 20–63 MB over its pages for a 100k batch.
   */
  async exportPage(filter: {
    batchKey: number;
    status?: string;
    afterSeq: number;
    limit: number;
  }): Promise<ExportRow[]> {
    const rows = await this.itemPage({ ...filter, take: filter.limit });
    return rows.map((r) => ({
      ...itemFields(r),
      payloadJson: this.jsonText(r.payload) as string,
      resultJson: this.jsonText(r.result),
    }));
  }

  /** By position, keyset-paginated on seq: `limit` items and one more (there is a next page). */
  async listItems(filter: { batchKey: number; status?: string; limit: number; afterSeq?: number }) {
    const rows = await this.itemPage({
      batchKey: filter.batchKey,
      status: filter.status,
      afterSeq: filter.afterSeq ?? -1,
      take: filter.limit + 1,
    });
    // PostgreSQL's driver has parsed jsonb already; SQLite's JSON text is parsed here.
    const parsed =
      this.db.dialect.name === 'postgres'
        ? (value: unknown) => value
        : (value: unknown): unknown => {
            const text = this.jsonText(value);
            return text === null ? null : JSON.parse(text);
          };
    return rows.map((r) => ({
      ...itemFields(r),
      result: parsed(r.result),
      payload: parsed(r.payload),
      progress: Number(r.progress),
      stage: r.stage as string | null,
      nextAttemptAt: Number(r.nextAttemptAt),
      updatedAt: Number(r.updatedAt),
    }));
  }
}

/** The fields of an item row that the list and the export both show, typed. */
function itemFields(r: Record<string, unknown>) {
  return {
    seq: Number(r.seq),
    status: r.status as string,
    attempts: Number(r.attempts),
    error: r.error as string | null,
    errorCategory: r.errorCategory as string | null,
    retryable: r.retryable === null ? null : Number(r.retryable) === 1,
  };
}
