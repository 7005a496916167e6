import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../shared/clock';
import { decodeCursor, isSeqCursor, isTimeCursor, Page, toPage } from '../shared/cursor';
import { AppException } from '../shared/errors/app-exception';
import { ErrorCode } from '../shared/errors/error-code';
import { ModuleLogger } from '../shared/module-logger';
import {
  isAdmin,
  METRICS_PORT,
  type MetricsPort,
  type ModuleUser,
  RATE_LIMITER_PORT,
  type RateLimiterPort,
  REQUEST_CONTEXT_PORT,
  type RequestContextPort,
} from '../shared/ports';
import { enforceRateLimit } from '../shared/rate-limit-enforcer';
import { BatchEnvelopeValidator, ValidEnvelope } from './batch-envelope.validator';
import { accepts, ACCEPTS } from './batch-lifecycle';
import { BatchStatus, ItemStatus } from './batch-status';
import { BatchEvent, BatchEventBus, batchEventPayload } from './batch.events';
import { BatchRepository, RESUMED_STATUS } from './batch.repository';
import { itemId, seqOfItemId } from './batch-row.mapper';
import {
  BatchRecord,
  BatchView,
  FailureGroupsView,
  ItemView,
  takesItems,
  ThroughputView,
  toBatchView,
} from './batch.types';
import { ListBatchesQuery, ListItemsQuery, ThroughputQuery } from './dto/batch-query.dto';
import type { RetryBody } from './dto/create-batch.schema';
import type { ExportItemsQuery } from './dto/batch-query.dto';
import { streamRows } from './item-export';
import { IdempotencyService } from './idempotency.service';

/** Rolls a retry's transaction back when no item matched. */
class NothingToRetry extends Error {}

/** Items per page of an export (memory stays at one page). */
const EXPORT_PAGE = 1000;

@Injectable()
export class BatchService {
  /** Throughput histories of finished batches, by batch key, event number and bucket count (at most 200). */
  private readonly finishedThroughput = new Map<string, ThroughputView>();

  private readonly logger: ModuleLogger;

  constructor(
    private readonly repository: BatchRepository,
    private readonly validator: BatchEnvelopeValidator,
    private readonly idempotency: IdempotencyService,
    private readonly events: BatchEventBus,
    @Inject(RATE_LIMITER_PORT) private readonly limiter: RateLimiterPort,
    @Inject(REQUEST_CONTEXT_PORT) private readonly context: RequestContextPort,
    private readonly clock: Clock,
    @Inject(METRICS_PORT) private readonly metrics: MetricsPort,
    logger: ModuleLogger,
  ) {
    this.logger = logger.forContext(BatchService.name);
  }

  /**
   * Validates the whole envelope first, then charges the caller's quotas, then stores
   * the batch and its items in short slices and seals it; workers see it only once
   * sealed. Nothing is stored, and no quota charged, on any 4xx. With an
   * Idempotency-Key, the same body again replays the first response, free of charge.
   */
  async create(
    user: ModuleUser,
    body: unknown,
    idempotencyKey?: string,
  ): Promise<{ batch: BatchView; replayed: boolean; rateLimitHeaders: Record<string, string> }> {
    const key = IdempotencyService.validateKey(idempotencyKey);
    const envelope = await this.validator.validate(body);
    return this.idempotent(user, key, body, async () => {
      // Both quotas together or neither; only a request that will create a batch gets here.
      const rateLimitHeaders = await enforceRateLimit(this.limiter, this.logger, `user:${user.userId}`, [
        { policy: 'BATCH_OPERATIONS', cost: 1 },
        { policy: 'BATCH_ITEM_PROCESSING', cost: envelope.items.length },
      ]);
      return { batch: await this.store(user, envelope), rateLimitHeaders };
    });
  }

  /**
   * Appends items to the caller's batch while it has not ended (POST /batches/:id/items):
   * the same checks and sizes as creation, `BATCH_ITEM_PROCESSING` charged by the added
   * count, nothing stored and nothing charged on any 4xx; 409 INVALID_STATE once the batch
   * has ended or was cancelled. With an Idempotency-Key, the same body again replays.
   */
  async append(
    user: ModuleUser,
    id: string,
    body: unknown,
    idempotencyKey?: string,
  ): Promise<{ batch: BatchView; replayed: boolean; rateLimitHeaders: Record<string, string> }> {
    const key = IdempotencyService.validateKey(idempotencyKey);
    const batch = await this.findVisible(user, id);
    const itemsJson = await this.validator.validateAppend(
      body,
      batch.operation,
      batch.options.allowFailures,
      batch.itemCount,
    );
    const ended = () =>
      AppException.invalidState(
        `Batch is ${batch.status}; items can be added only until it ends (or within its keepOpenSeconds)`,
      );
    return this.idempotent(user, key, { appendTo: batch.id, body }, async () => {
      if (!takesItems(batch, this.clock.now())) throw ended();
      const rateLimitHeaders = await enforceRateLimit(this.limiter, this.logger, `user:${user.userId}`, [
        { policy: 'BATCH_ITEM_PROCESSING', cost: itemsJson.length },
      ]);
      const outcome = await this.repository.appendItems(
        batch.key,
        itemsJson,
        this.validator.maxItems,
        this.clock.now(),
      );
      if ('refused' in outcome) {
        if (outcome.refused === 'too_large')
          this.validator.checkSize(outcome.itemCount + itemsJson.length, outcome.itemCount);
        throw ended();
      }
      this.logger.business('batch.appended', {
        batchId: batch.id,
        userId: user.userId,
        added: itemsJson.length,
      });
      this.events.publish(BatchEvent.Queued, { batchId: batch.id });
      return { batch: this.announce(outcome.batch, null), rateLimitHeaders };
    });
  }

  /**
   * Runs a write under the caller's Idempotency-Key, if any: the same key with the same
   * `request` again replays the batch as it is now; another request under the key is 422;
   * a write that fails frees the key for a new try.
   */
  private async idempotent(
    user: ModuleUser,
    key: string | undefined,
    request: unknown,
    write: () => Promise<{ batch: BatchView; rateLimitHeaders: Record<string, string> }>,
  ): Promise<{ batch: BatchView; replayed: boolean; rateLimitHeaders: Record<string, string> }> {
    if (key) {
      const claim = await this.idempotency.begin(user.userId, key, IdempotencyService.fingerprint(request));
      if (claim.kind === 'replay')
        return { batch: await this.get(user, claim.batchId), replayed: true, rateLimitHeaders: {} };
    }
    try {
      const written = await write();
      if (key) await this.idempotency.complete(user.userId, key, written.batch.id);
      return { ...written, replayed: false };
    } catch (error) {
      if (key) await this.idempotency.abandon(user.userId, key);
      throw error;
    }
  }

  async get(user: ModuleUser, id: string): Promise<BatchView> {
    return toBatchView(await this.findVisible(user, id));
  }

  /** The batch as stored now and the event number of that state (for socket subscribers). */
  async snapshot(user: ModuleUser, id: string): Promise<{ batch: BatchView; eventSeq: number }> {
    const record = await this.findVisible(user, id);
    return { batch: toBatchView(record), eventSeq: record.eventSeq };
  }

  /** The caller's batches newest first; admins may list anyone's (or everyone's). */
  async list(user: ModuleUser, query: ListBatchesQuery): Promise<Page<BatchView>> {
    if (query.userId !== undefined && query.userId !== user.userId && !isAdmin(user)) {
      throw new AppException(ErrorCode.Forbidden, 'Only admins may list other users’ batches');
    }
    const limit = query.limit ?? 20;
    const after = query.cursor ? decodeCursor(query.cursor, isTimeCursor) : undefined;
    const rows = await this.repository.listBatches({
      userId: isAdmin(user) ? query.userId : user.userId,
      status: query.status,
      operation: query.operation,
      q: query.q,
      limit,
      after: after && { createdAt: new Date(after.t), id: after.id },
    });
    return toPage(rows, limit, toBatchView, (b) => ({ t: b.createdAt.toISOString(), id: b.id }));
  }

  async listItems(user: ModuleUser, id: string, query: ListItemsQuery): Promise<Page<ItemView>> {
    const batch = await this.findVisible(user, id);
    const limit = query.limit ?? 20;
    const after = query.cursor ? decodeCursor(query.cursor, isSeqCursor) : undefined;
    const rows = await this.repository.listItems({
      batchKey: batch.key,
      status: query.status,
      limit,
      afterSeq: after?.seq,
    });
    return toPage(
      rows,
      limit,
      (i) => toItemView(batch.id, i),
      (i) => ({ seq: i.seq }),
    );
  }

  /**
   * How many items settled in each of `buckets` equal spans of the batch's run (from its
   * start, or creation, to its end, or now), by outcome: a throughput chart that works
   * after a reload and for finished batches, read from the items' own rows.
   */
  async throughput(user: ModuleUser, id: string, query: ThroughputQuery): Promise<ThroughputView> {
    const batch = await this.findVisible(user, id);
    // A finished batch's history changes only with its event number (a retry or an append
    // moves it): kept, since reading it scans every item row (~45 ms at 100k on SQLite).
    const cacheKey = batch.finishedAt ? `${batch.key}:${batch.eventSeq}:${query.buckets}` : null;
    const cached = cacheKey ? this.finishedThroughput.get(cacheKey) : undefined;
    if (cached) return cached;
    const view = await this.readThroughput(batch, query);
    if (cacheKey) {
      if (this.finishedThroughput.size >= 200)
        this.finishedThroughput.delete(this.finishedThroughput.keys().next().value as string);
      this.finishedThroughput.set(cacheKey, view);
    }
    return view;
  }

  private async readThroughput(batch: BatchRecord, query: ThroughputQuery): Promise<ThroughputView> {
    const from = (batch.startedAt ?? batch.createdAt).getTime();
    const to = Math.max(from + 100, batch.finishedAt?.getTime() ?? this.clock.now());
    // Whole tenths of a second: a batch that took one second still gets a shape.
    const bucketMs = Math.max(100, Math.ceil((to - from) / query.buckets / 100) * 100);
    const count = Math.max(1, Math.ceil((to - from) / bucketMs));
    const buckets = Array.from({ length: count }, (_, k) => ({
      at: new Date(from + k * bucketMs).toISOString(),
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    }));
    const field = { success: 'succeeded', failed: 'failed', cancelled: 'cancelled' } as const;
    for (const row of await this.repository.settledPerBucket(batch.key, from, bucketMs)) {
      const name = field[row.status as keyof typeof field];
      // Items cancelled before the batch started count in its first bucket.
      if (name) buckets[Math.min(count - 1, Math.max(0, row.bucket))][name] += row.count;
    }
    return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucketMs, buckets };
  }

  /** The batch's failed items grouped by error and category (at most 100 groups, largest first). */
  async failures(user: ModuleUser, id: string): Promise<FailureGroupsView> {
    const batch = await this.findVisible(user, id);
    const groups = await this.repository.failureGroups(batch.key, 100);
    return {
      data: groups.map(({ firstSeq, ...group }) => ({ ...group, firstItemId: itemId(batch.id, firstSeq) })),
    };
  }

  /**
   * The batch's items after position `afterSeq`, in order, at most `limit` (1 to 1,000): for
   * in-process readers that follow a batch (the PDF queue's job mirror), no cursor to encode.
   */
  async itemsAfter(user: ModuleUser, id: string, afterSeq: number, limit: number): Promise<ItemView[]> {
    const batch = await this.findVisible(user, id);
    const take = Math.min(1000, Math.max(1, Math.floor(limit)));
    const rows = await this.repository.listItems({ batchKey: batch.key, limit: take, afterSeq });
    return rows.slice(0, take).map((i) => toItemView(batch.id, i));
  }

  /**
   * Streams the batch's items (all, or one status) as CSV or NDJSON to `out`, a page of
   * 1,000 at a time with backpressure, after the visibility check and the EXPORT quota.
   * Returns the headers to send first, and the writer.
   */
  async exportItems(
    user: ModuleUser,
    id: string,
    query: ExportItemsQuery,
  ): Promise<{ headers: Record<string, string>; write: (out: Writable) => Promise<number> }> {
    const batch = await this.findVisible(user, id);
    const rateLimitHeaders = await enforceRateLimit(this.limiter, this.logger, `user:${user.userId}`, [
      { policy: 'EXPORT', cost: 1 },
    ]);
    const suffix = query.status ? `-${query.status}` : '';
    return {
      headers: {
        ...rateLimitHeaders,
        'Content-Type':
          query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
        'Content-Disposition': `attachment; filename="batch-${batch.id}-items${suffix}.${query.format}"`,
        'Cache-Control': 'no-store',
      },
      write: (out) =>
        streamRows(
          out,
          (afterSeq) =>
            this.repository.exportPage({
              batchKey: batch.key,
              status: query.status,
              afterSeq,
              limit: EXPORT_PAGE,
            }),
          query.format,
        ),
    };
  }

  /** Queued items become cancelled at once; a chunk in flight finishes and is counted. */
  async cancel(user: ModuleUser, id: string): Promise<BatchView> {
    const batch = await this.findVisible(user, id);
    const now = this.clock.now();
    const result = await this.repository.transaction(async (tx) => {
      if (!(await this.repository.transition(tx, batch.key, ACCEPTS.cancel, BatchStatus.Cancelled, now)))
        return null;
      const cancelled = await this.repository.cancelRemaining(tx, batch.key, now);
      return { cancelled, finished: await this.repository.finishIfSettled(tx, batch.key, now) };
    });
    if (!result) throw AppException.invalidState(`Batch is ${batch.status} and cannot be cancelled`);
    this.logger.business('batch.cancelled', { batchId: batch.id, userId: user.userId });
    return this.announce(result.finished ?? result.cancelled, result.finished);
  }

  async pause(user: ModuleUser, id: string): Promise<BatchView> {
    return this.move(user, id, ACCEPTS.pause, BatchStatus.Paused, 'paused');
  }

  async resume(user: ModuleUser, id: string): Promise<BatchView> {
    const view = await this.move(user, id, ACCEPTS.resume, RESUMED_STATUS, 'resumed');
    this.events.publish(BatchEvent.Queued, { batchId: id });
    return view;
  }

  /**
   * Queues failed items (all, or the listed ones) again with attempts reset; the batch
   * processes again. Only a batch that ended `completed_with_errors` or `failed` can be
   * retried: the status is checked and moved in the same transaction as the requeue,
   * so of two concurrent retries one wins and the other gets 409. A cancelled batch is
   * final (its owner stopped it; retrying would revive the items they cancelled).
   */
  async retry(user: ModuleUser, id: string, body: RetryBody): Promise<BatchView> {
    const batch = await this.findVisible(user, id);
    if (!accepts('retry', batch.status))
      throw AppException.invalidState(
        batch.status === BatchStatus.Cancelled
          ? 'Batch was cancelled; cancelled batches are final and cannot be retried'
          : `Batch is ${batch.status}; only finished batches can be retried`,
      );
    const now = this.clock.now();
    // Ids that name no item of this batch match nothing, as an unknown id always did.
    const seqs = body.itemIds
      ?.map((itemIdOf) => seqOfItemId(batch.id, itemIdOf))
      .filter((seq): seq is number => seq !== null);
    const outcome = await this.repository
      .transaction(async (tx) => {
        if (!(await this.repository.transition(tx, batch.key, ACCEPTS.retry, BatchStatus.Processing, now)))
          return 'not-finished' as const;
        const requeued = await this.repository.requeueFailed(
          tx,
          batch.key,
          seqs,
          body.group,
          batch.status === BatchStatus.Failed,
          now,
        );
        if (requeued === 0) throw new NothingToRetry();
        return this.repository.reopen(tx, batch.key, now);
      })
      .catch((error: unknown) => {
        if (error instanceof NothingToRetry) return 'nothing' as const;
        throw error;
      });
    if (outcome === 'not-finished')
      throw AppException.invalidState('Batch is not finished (a retry may already be running)');
    if (outcome === 'nothing') throw AppException.invalidState('Nothing to retry: no failed items matched');
    this.logger.business('batch.retried', { batchId: batch.id, userId: user.userId });
    this.events.publish(BatchEvent.Queued, { batchId: id });
    return this.announce(outcome, null);
  }

  private async store(user: ModuleUser, envelope: ValidEnvelope): Promise<BatchView> {
    const id = randomUUID();
    const correlationId = this.context.correlationId() ?? randomUUID();
    const started = this.clock.now();
    const storing = performance.now();
    const batchKey = await this.repository.insertBatch({
      id,
      userId: user.userId,
      operation: envelope.operation,
      itemCount: envelope.items.length,
      options: envelope.options,
      metadata: envelope.metadata,
      correlationId,
    });
    try {
      const now = this.clock.date();
      const { size, parallel } = this.repository.insertSlices;
      let next = 0;
      const insertSlices = async () => {
        for (let start = next; start < envelope.items.length; start = next) {
          next += size;
          const slice = `[${envelope.itemsJson.slice(start, start + size).join(',')}]`;
          await this.repository.transaction((tx) =>
            this.repository.insertItems(tx, batchKey, start, slice, now),
          );
          // Let other requests in between slices: a large batch must not stall the API.
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      // Every slice settles before a failure deletes the batch, so none lands after the delete.
      const settled = await Promise.allSettled(Array.from({ length: parallel }, insertSlices));
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      await this.repository.seal(id);
      this.metrics.increment(
        'batch_engine_seconds_total',
        { phase: 'storing' },
        (performance.now() - storing) / 1000,
      );
    } catch (error) {
      await this.repository.deleteBatch(id);
      throw error;
    }
    this.logger.business('batch.created', {
      batchId: id,
      userId: user.userId,
      operation: envelope.operation,
      itemCount: envelope.items.length,
      durationMs: this.clock.now() - started,
    });
    this.events.publish(BatchEvent.Queued, { batchId: id });
    return toBatchView((await this.repository.findById(id)) as BatchRecord);
  }

  private async move(
    user: ModuleUser,
    id: string,
    from: readonly BatchStatus[],
    to: BatchStatus | typeof RESUMED_STATUS,
    verb: string,
  ): Promise<BatchView> {
    const batch = await this.findVisible(user, id);
    const moved = await this.repository.transaction((tx) =>
      this.repository.transition(tx, batch.key, from, to, this.clock.now()),
    );
    if (!moved) throw AppException.invalidState(`Batch is ${batch.status} and cannot be ${verb}`);
    this.logger.business(`batch.${verb}`, { batchId: batch.id, userId: user.userId });
    return this.announce((await this.repository.findById(batch.id)) as BatchRecord, null);
  }

  /** Publishes the committed state to listeners (live progress), then returns it. */
  private announce(batch: BatchRecord, finished: BatchRecord | null): BatchView {
    const payload = batchEventPayload(batch, this.clock.now());
    this.events.publish(BatchEvent.Progress, payload);
    if (finished) this.events.publish(BatchEvent.Finished, payload);
    return payload.batch;
  }

  private async findVisible(user: ModuleUser, id: string): Promise<BatchRecord> {
    const batch = id.length <= 64 ? await this.repository.findById(id) : null;
    if (!batch || (batch.userId !== user.userId && !isAdmin(user))) throw AppException.notFound('Batch');
    return batch;
  }
}

/** An item row as the API shows it: its public id, times as ISO text. */
function toItemView(batchId: string, i: Awaited<ReturnType<BatchRepository['listItems']>>[number]): ItemView {
  return {
    id: itemId(batchId, i.seq),
    ...i,
    result: i.result ?? null,
    nextAttemptAt:
      i.status === ItemStatus.Queued && Number(i.nextAttemptAt) > 0
        ? new Date(Number(i.nextAttemptAt)).toISOString()
        : null,
    updatedAt: new Date(Number(i.updatedAt)).toISOString(),
  };
}
