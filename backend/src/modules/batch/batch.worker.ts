import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../shared/clock';
import { databaseFailure } from '../shared/errors/database-failure';
import { ModuleLogger } from '../shared/module-logger';
import {
  METRICS_PORT,
  type MetricsPort,
  type EnginePhase,
  REQUEST_CONTEXT_PORT,
  type RequestContextPort,
} from '../shared/ports';
import { BATCH_SETTINGS, type BatchSettings } from './batch.options';
import { AbortReason, afterAbort, cancelsRemaining, itemNext } from './batch-lifecycle';
import { BatchStatus, ItemStatus } from './batch-status';
import { BatchEvent, BatchEventBus, batchEventPayload } from './batch.events';
import { BatchRepository, Db } from './batch.repository';
import { ChunkRepository, type ClaimedRow, type ClaimRequest, type OutcomeRow } from './chunk.repository';
import { BatchRecord } from './batch.types';
import {
  BatchOperationHandler,
  ChunkItem,
  KEY_SLOT_RETRY_MS,
  type KeyEntry,
  type OperationContext,
  type OperationLimits,
} from './operations/batch-operation';
import { ChunkLease } from './chunk-lease';
import { ChunkPace } from './chunk-pace';
import { registerLocalWorker } from './dead-owners';
import { BatchSweeper } from './batch-sweeper';
import { type ChunkRun, INVALID_ITEM, runChunk } from './chunk-runner';
import { OperationRegistry } from './operations/operation.registry';
import { ItemProgressCoalescer, ItemProgressReport } from './item-progress';
import { OperationLimitsRepository } from './operation-limits.repository';
import { RolloutSignals } from '../feature-flags';
import { ApiPressure } from './api-pressure';

/**
 * The most items one chunk of a default-size batch leases (the largest chunkSize a batch
 * may ask for): a fast operation's items are claimed and recorded up to this many at a
 * time, and handed to the operation in calls of the batch's chunk size.
 */
const MAX_LEASE_ITEMS = 500;

/** How long a loop beyond the first waits before looking again whether the API is still busy. */
const STEP_ASIDE_MS = 10;

/** Consecutive failed iterations wait poll × 2^n (at most 10 s), with jitter so processes do not retry in step. */
function failureBackoffMs(failures: number, pollMs: number): number {
  return Math.round(Math.min(10_000, pollMs * 2 ** Math.min(failures, 10)) * (0.5 + Math.random() * 0.5));
}

interface Claim {
  batch: BatchRecord;
  items: ClaimedRow[];
  started: boolean;
  leaseToken: string;
  /** Item stages being stored; an outside chunk's outcomes wait for them (else a late stage write could lose its race). */
  stageWrites: Promise<unknown>[];
}

/**
 * Processes claimed chunks. Any number of workers, in any number of processes sharing
 * the database, cooperate through leases: a chunk is claimed in one short transaction,
 * processed, and its outcomes recorded in another (or in the same one as the effects,
 * for transactional operations) only where the lease token still matches.
 */
@Injectable()
export class BatchWorker implements OnApplicationBootstrap, OnModuleDestroy {
  readonly workerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly logger: ModuleLogger;
  private readonly stop = new AbortController();
  /** Chunks of slow operations record about twice a second, so counts move with items. */
  private readonly pace = new ChunkPace(500);
  private loops: Promise<void>[] = [];
  /** Chunks of outside operations running beside the loops (see `tick`). */
  private readonly beside = new Set<Promise<void>>();
  private wakeUp: (() => void)[] = [];

  constructor(
    private readonly batches: BatchRepository,
    private readonly chunks: ChunkRepository,
    private readonly registry: OperationRegistry,
    private readonly events: BatchEventBus,
    private readonly clock: Clock,
    @Inject(BATCH_SETTINGS) private readonly settings: BatchSettings,
    @Inject(REQUEST_CONTEXT_PORT) private readonly context: RequestContextPort,
    @Inject(METRICS_PORT) private readonly metrics: MetricsPort,
    private readonly limits: OperationLimitsRepository,
    private readonly sweeper: BatchSweeper,
    private readonly rolloutSignals: RolloutSignals,
    private readonly api: ApiPressure,
    logger: ModuleLogger,
  ) {
    this.logger = logger.forContext(BatchWorker.name);
    events.on(BatchEvent.Queued, () => this.wake());
  }

  private unregister: (() => void) | null = null;

  onApplicationBootstrap(): void {
    this.unregister = registerLocalWorker(this.workerId);
    // Expired leases of a dead process are claimable again, so starting the loops is the recovery.
    this.loops = Array.from({ length: this.settings.workers }, (_, index) => this.loop(index));
  }

  /** First step of shutdown: finish the chunks in flight while the database is still open. */
  async onModuleDestroy(): Promise<void> {
    this.stop.abort();
    this.wake();
    await Promise.all(this.loops);
    await Promise.all(this.beside);
    this.unregister?.();
  }

  private wakeTimer: { at: number; timer: NodeJS.Timeout } | null = null;

  /** Wakes an idle loop at `at` (epoch ms, the engine's clock): one timer, for the earliest moment asked. */
  private wakeAt(at: number): void {
    if (this.wakeTimer && this.wakeTimer.at <= at) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer.timer);
    const timer = setTimeout(
      () => {
        this.wakeTimer = null;
        this.wake();
      },
      Math.max(0, at - this.clock.now()),
    );
    timer.unref();
    this.wakeTimer = { at, timer };
  }

  /** Ends idle waits early (a batch was just sealed). */
  wake(): void {
    const waiting = this.wakeUp;
    this.wakeUp = [];
    for (const resolve of waiting) resolve();
  }

  /**
   * How many items a chunk of a default-size batch of `operation` leases: what the
   * operation's pace allows (items recorded about every 500 ms), up to MAX_LEASE_ITEMS in
   * calls of its `maxCallItems` (else the chunk size) for an operation whose chunks may be
   * split, else up to one call's worth. A chunk of an operation with limits is never split
   * (its slots are per chunk), nor one of a transactional operation (its calls would lock
   * shared rows in runs another chunk's calls may reverse: a deadlock).
   * A chunk is written twice (claim, outcomes) and committed once whatever its size, so
   * with the default size of 100 this measured (20k no-op items, chunks of 100 against
   * 500 in the same run) 87k against 104k items/s on SQLite and 19k against 40k on
   * PostgreSQL, where every commit is an fsync.
   */
  private leaseSize(operation: string, chunkSize: number): number {
    const handler = this.registry.get(operation);
    if (handler === undefined || handler.limits !== undefined) return this.pace.sizeFor(operation, chunkSize);
    const call = callSize(handler, chunkSize);
    return this.pace.sizeFor(operation, handler.transactional ? call : Math.max(call, MAX_LEASE_ITEMS));
  }

  /**
   * Claims a chunk under a new lease token, in a transaction of its own, or inside `tx` (a
   * record transaction, which holds its own batch's row: it passes over rows others hold).
   */
  private async claim(tx: Db | null): Promise<Claim | null> {
    const request: ClaimRequest = {
      workerId: this.workerId,
      leaseToken: randomUUID(),
      now: this.clock.now(),
      leaseMs: this.settings.leaseMs,
      defaultLimit: this.settings.chunkSize,
      limitsOf: (operation) => this.registry.get(operation)?.limits,
      sizeFor: (operation, chunkSize) => this.leaseSize(operation, chunkSize),
    };
    const started = performance.now();
    const claimed = tx
      ? await this.chunks.claimChunkIn(tx, { ...request, skipLockedBatches: true })
      : await this.chunks.claimChunk(request);
    this.spent('claiming', started);
    return claimed ? { ...claimed, leaseToken: request.leaseToken, stageWrites: [] } : null;
  }

  /**
   * Claims and processes one chunk (or processes `carried`, a chunk claimed already in the
   * transaction that recorded the one before). Returns whether there was a chunk, and the
   * next chunk when this one's record transaction claimed it (only if `carry`).
   */
  private async tick(
    carried: Claim | null,
    carry: boolean,
  ): Promise<{ worked: boolean; next: Claim | null }> {
    let claim = carried;
    if (!claim) {
      // Slot rows exist before any claim needs them (one statement per operation, once per process).
      for (const [operation, limits] of this.registry.limited())
        await this.limits.ensureSeeded(operation, limits.concurrency);
      claim = await this.claim(null);
      if (!claim) return { worked: false, next: null };
    }
    const current = claim;
    // A chunk of an operation that calls the outside world (it declares limits) runs beside
    // the loop, which goes on claiming other batches' chunks: a slow remote server must not
    // hold them up. The operation's slots bound how many such chunks run at once.
    const beside = this.registry.get(current.batch.operation)?.limits !== undefined;
    const work = this.context.run(
      { correlationId: current.batch.correlationId, userId: current.batch.userId, batchId: current.batch.id },
      () => this.processChunk(current, carry && !beside),
    );
    if (beside) {
      // When it ends, its slots are free again: the loop claims at once instead of after its idle wait.
      const running = work
        .then(() => undefined)
        .catch(() => undefined)
        .finally(() => {
          this.beside.delete(running);
          this.wake();
        });
      this.beside.add(running);
      return { worked: true, next: null };
    }
    return { worked: true, next: await work };
  }

  private async loop(index: number): Promise<void> {
    let failures = 0;
    // A chunk claimed by the last record transaction: processed before anything else, even
    // after a stop was asked (it is then given back at once, without spending an attempt).
    let carried: Claim | null = null;
    while (!this.stop.signal.aborted || carried) {
      // Loops beyond the first give the API the machine while it answers (ApiPressure).
      if (index > 0 && this.api.busy && !carried) {
        // A plain timer, not sleep(): wake() is for work that arrived, and this wait is short.
        const asideSince = performance.now();
        await new Promise((resolve) => setTimeout(resolve, STEP_ASIDE_MS));
        this.spent('yielding', asideSince);
        continue;
      }
      let worked = false;
      try {
        await this.sweeper.sweep(this.workerId);
        // A loop that steps aside for the API does not claim ahead.
        const ticked = await this.tick(carried, !(index > 0 && this.api.busy));
        worked = ticked.worked;
        carried = ticked.next;
        if (failures > 0) this.logger.info('Batch worker resumed', { failedAttempts: failures });
        failures = 0;
      } catch (error) {
        // A carried chunk the failed iteration did not reach is tried again after the backoff
        // (its lease is long; a second run of it would be fenced out anyway), not once stopping.
        if (this.stop.signal.aborted) carried = null;
        // Logged once per streak: an outage of the database must not flood the logs.
        if (failures === 0) this.logger.errorWithStack('Batch worker iteration failed; backing off', error);
        failures += 1;
      }
      const pause =
        failures > 0
          ? failureBackoffMs(failures, this.settings.pollMs)
          : worked
            ? this.settings.chunkDelayMs
            : this.settings.pollMs;
      if (pause > 0) await this.sleep(pause);
      // The fast path resolves without touching the event loop: let HTTP and socket I/O run between chunks.
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stop.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp.push(done);
    });
  }

  /** Processes a claimed chunk; returns the next chunk when its record transaction claimed one (`carry`). */
  private async processChunk(claim: Claim, carry: boolean): Promise<Claim | null> {
    let next: Claim | null = null;
    const { batch } = claim;
    const startedAt = this.clock.now();
    if (claim.started) this.emit(BatchEvent.Started, batch);
    const handler = this.registry.get(batch.operation);
    const lease = new ChunkLease(
      {
        batches: this.batches,
        chunks: this.chunks,
        limits: this.limits,
        clock: this.clock,
        leaseMs: this.settings.leaseMs,
      },
      { batchKey: batch.key, leaseToken: claim.leaseToken, holdsSlots: handler?.limits !== undefined },
      this.stop.signal,
    );
    try {
      const recorded = handler?.transactional
        ? await this.whileDatabaseRecovers(() =>
            this.recordTransaction(async (tx) => {
              const held = await this.chunks.heldSeqs(tx, batch.key, claim.leaseToken);
              const items = claim.items.filter((i) => held.has(i.seq));
              const run = await this.run(handler, claim, items, tx);
              return this.recordAndClaim(tx, claim, items, run, null, carry);
            }),
          )
        : await this.runOutside(handler, claim, lease.watch(), carry);
      next = recorded.next;
      const durationMs = this.clock.now() - startedAt;
      this.logger.performance('batch.chunk', durationMs, {
        batchId: batch.id,
        items: claim.items.length,
        written: recorded.written,
      });
      this.countChunk(batch.operation, durationMs, recorded);
      // Rollout guards: the owner's settled items (items that failed validation are the caller's, not the feature's).
      if (recorded.written === recorded.attempted)
        this.rolloutSignals.items(
          batch.userId,
          recorded.settled.success + recorded.settled.failed,
          recorded.settled.failed - recorded.settled.invalid,
        );
      this.emit(BatchEvent.Progress, recorded.batch);
      if (recorded.finished) {
        this.logger.business('batch.finished', { batchId: batch.id, status: recorded.finished.status });
        this.emit(BatchEvent.Finished, recorded.finished);
      }
    } catch (error) {
      // Nothing was recorded; the lease expires and the chunk is claimed again.
      this.logger.errorWithStack('Chunk failed before its outcomes were recorded', error, {
        batchId: batch.id,
      });
    } finally {
      await lease.release();
    }
    return next;
  }

  /** Stores the item's stage (fenced by the lease) and publishes `item-progress`. */
  private itemProgress(claim: Claim, item: ChunkItem<unknown>, report: ItemProgressReport): void {
    claim.stageWrites.push(
      this.chunks
        .storeItemProgress(claim.batch.key, item.seq, claim.leaseToken, report.stage, report.percentage)
        .catch(() => undefined),
    );
    this.events.publish(BatchEvent.ItemProgress, {
      batchId: claim.batch.id,
      userId: claim.batch.userId,
      itemId: item.id,
      seq: item.seq,
      stage: report.stage,
      percentage: report.percentage,
      message: report.message ?? '',
      at: new Date(this.clock.now()).toISOString(),
    });
  }

  private countChunk(
    operation: string,
    durationMs: number,
    recorded: {
      written: number;
      attempted: number;
      settled: Record<'success' | 'failed' | 'retried' | 'invalid', number>;
    },
  ): void {
    this.metrics.observe('batch_chunk_duration_seconds', { operation }, durationMs / 1000);
    // When the lease was lost no outcome of the chunk was written: count those, not the settled ones.
    if (recorded.written < recorded.attempted) {
      this.metrics.increment(
        'batch_lease_lost_items_total',
        { operation },
        recorded.attempted - recorded.written,
      );
      return;
    }
    for (const outcome of ['success', 'failed', 'retried'] as const)
      if (recorded.settled[outcome] > 0)
        this.metrics.increment(
          'batch_items_settled_total',
          { operation, outcome },
          recorded.settled[outcome],
        );
  }

  /**
   * Runs an outside operation with the lease's abort signal (a cancel or pause of the
   * batch sent to any process, or shutdown); what was aborted is recorded by `afterAbort`.
   */
  private async runOutside(
    handler: BatchOperationHandler | undefined,
    claim: Claim,
    lease: ChunkLease,
    carry: boolean,
  ) {
    const outcomes = await this.run(handler, claim, claim.items, null, lease.signal);
    // The last stage of each item is stored before its outcome, which ends its stage writes.
    await Promise.all(claim.stageWrites);
    return this.whileDatabaseRecovers(() =>
      this.recordTransaction((tx) =>
        this.recordAndClaim(tx, claim, claim.items, outcomes, lease.reason, carry),
      ),
    );
  }

  /**
   * Records the chunk and, with `carry` (and no stop asked), claims the loop's next chunk in
   * the same transaction: one commit per chunk instead of two (on PostgreSQL one fsync less).
   */
  private async recordAndClaim(
    tx: Db,
    claim: Claim,
    items: ClaimedRow[],
    run: ChunkRun,
    aborted: AbortReason | null,
    carry: boolean,
  ) {
    const recorded = await this.record(tx, claim, items, run, aborted);
    const next = carry && !this.stop.signal.aborted ? await this.claim(tx) : null;
    return { ...recorded, next };
  }

  /**
   * The transaction that records a chunk: the time spent outside `fn` (BEGIN, COMMIT and,
   * on SQLite, waiting for the write lock) counts as `committing`.
   */
  private async recordTransaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const started = performance.now();
    let inside = 0;
    try {
      return await this.batches.transaction(async (tx) => {
        const entered = performance.now();
        try {
          return await fn(tx);
        } finally {
          inside = performance.now() - entered;
        }
      });
    } finally {
      this.spent('committing', started + inside);
    }
  }

  /**
   * One slot of a per-key limit (`<operation>@<key>` rows of OperationSlot/OperationWindow),
   * leased to the chunk: renewed by its heartbeat, freed by `release` or when the chunk ends.
   */
  private async enterKey(scope: string, limits: OperationLimits, holder: string): Promise<KeyEntry> {
    await this.limits.ensureSeeded(scope, limits.concurrency);
    const now = this.clock.now();
    const { slots, waitMs } = await this.batches.transaction(async (tx) => {
      const taken = await this.limits.acquire(tx, scope, limits, holder, now, now + this.settings.leaseMs, 1);
      if (taken.length > 0 && limits.rate) await this.limits.countStarts(tx, scope, limits.rate, now, 1);
      // Refused: the rate window says exactly when; a full set of slots frees when a call ends.
      const wait =
        taken.length === 0 && limits.rate ? await this.limits.rateWaitMs(tx, scope, limits.rate, now) : 0;
      return { slots: taken, waitMs: wait };
    });
    if (slots.length === 0) return { busyForMs: waitMs > 0 ? waitMs : KEY_SLOT_RETRY_MS };
    return {
      release: () => this.batches.transaction((tx) => this.limits.releaseSome(tx, scope, holder, slots)),
    };
  }

  /** Adds the time since `since` (performance.now) to the engine's `phase` (batch_engine_seconds_total). */
  private spent(phase: EnginePhase, since: number): void {
    this.metrics.increment('batch_engine_seconds_total', { phase }, (performance.now() - since) / 1000);
  }

  /**
   * Tries a chunk's database work again while the database is down or locked (backing
   * off to 2 s, for up to twice the lease), instead of dropping work already done and
   * waiting for the lease to expire. Safe to repeat: outcomes are written only under the
   * chunk's lease, and transactional work rolled back with the failed attempt.
   */
  private async whileDatabaseRecovers<T>(attempt: () => Promise<T>): Promise<T> {
    const giveUpAt = this.clock.now() + 2 * this.settings.leaseMs;
    for (let wait = 50; ; wait = Math.min(2000, wait * 2)) {
      try {
        return await attempt();
      } catch (error) {
        const failure = databaseFailure(error, this.batches.dialect);
        if (!failure || this.stop.signal.aborted || this.clock.now() + wait > giveUpAt) throw error;
        this.metrics.increment('batch_transaction_retries_total', { failure });
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** Runs the chunk's items through their operation (see `runChunk`), reporting item progress. */
  private async run(
    handler: BatchOperationHandler | undefined,
    claim: Claim,
    items: ClaimedRow[],
    tx: Db | null,
    signal: AbortSignal = this.stop.signal,
  ): Promise<ChunkRun> {
    const progress = new ItemProgressCoalescer(
      this.settings.progressIntervalMs,
      (item, report) => this.itemProgress(claim, item, report),
      () => this.clock.now(),
    );
    const started = performance.now();
    const context: OperationContext = {
      batchId: claim.batch.id,
      userId: claim.batch.userId,
      correlationId: claim.batch.correlationId,
      signal,
      logger: this.logger,
      tx,
      progress: (item, report) => progress.report(item, report),
      hold: (key, until) =>
        this.limits.hold(
          claim.batch.operation,
          key,
          Math.ceil(Math.min(until, this.clock.now() + this.settings.maxRetryAfterMs)),
        ),
      heldUntil: (key) => this.limits.heldUntil(claim.batch.operation, key, this.clock.now()),
      enterKey: (key, limits) => this.enterKey(`${claim.batch.operation}@${key}`, limits, claim.leaseToken),
      now: () => this.clock.now(),
    };
    try {
      // A lease may hold more items than one call takes (see leaseSize): calls of callSize.
      const size = handler ? callSize(handler, claim.batch.options.chunkSize) : items.length;
      const run: ChunkRun = { outcomes: [], notRun: new Set() };
      for (let from = 0; from < items.length; from += size) {
        const part = await runChunk(
          this.registry,
          handler,
          claim.batch,
          items.slice(from, from + size),
          context,
        );
        run.outcomes.push(...part.outcomes);
        for (const index of part.notRun) run.notRun.add(from + index);
      }
      return run;
    } finally {
      progress.flush();
      this.spent('running', started);
      this.pace.ran(claim.batch.operation, items.length, performance.now() - started);
    }
  }

  private async record(
    tx: Db,
    claim: Claim,
    items: ClaimedRow[],
    { outcomes, notRun }: ChunkRun,
    aborted: AbortReason | null = null,
  ) {
    const started = performance.now();
    const now = this.clock.now();
    const { maxAttempts, allowFailures } = claim.batch.options;
    const rules = {
      maxAttempts,
      retryBaseMs: this.settings.retryBaseMs,
      maxRetryAfterMs: this.settings.maxRetryAfterMs,
      now,
    };
    const rows: OutcomeRow[] = items.map((item, index) => {
      const next = afterAbort(itemNext(outcomes[index], item.attempts, rules), aborted);
      const outcome = outcomes[index];
      const failed = !outcome.ok && (next.status === ItemStatus.Failed || next.status === ItemStatus.Queued);
      return {
        seq: item.seq,
        ...next,
        // An item that did not run has its attempts counted by the claims already.
        ...(notRun.has(index) ? { refundAttempt: true } : {}),
        errorCategory: failed ? (outcome.errorCategory ?? null) : null,
        retryable: failed ? !outcome.permanent : null,
      };
    });
    const settled = {
      success: rows.filter((r) => r.status === ItemStatus.Success).length,
      failed: rows.filter((r) => r.status === ItemStatus.Failed).length,
      retried: rows.filter((r) => r.status === ItemStatus.Queued).length,
      invalid: rows.filter((r) => r.status === ItemStatus.Failed && r.errorCategory === INVALID_ITEM).length,
    };
    const { failedForGood, written, ...recorded } = await this.chunks.recordOutcomes(
      tx,
      claim.batch.key,
      claim.leaseToken,
      rows,
      now,
    );
    let batch = recorded.batch;
    if (written < rows.length) {
      this.logger.warn(`Lease lost for ${rows.length - written} items; their newer outcome stands`, {
        batchId: batch.id,
      });
    }
    // A batch cancelled while this chunk ran: what the chunk queued again (a retry, an item
    // given back) is cancelled now, or it would wait forever in a batch nobody claims.
    if (cancelsRemaining(failedForGood, allowFailures) || batch.status === BatchStatus.Cancelled)
      batch = await this.batches.cancelRemaining(tx, batch.key, now);
    // Only a batch whose items are all settled can end: skip the statement otherwise (the row is
    // this transaction's, so its counters cannot move meanwhile).
    const finished =
      batch.processedCount + batch.cancelledCount >= batch.itemCount
        ? await this.batches.finishIfSettled(tx, batch.key, now)
        : null;
    this.spent('recording', started);
    // Items given back to wait a little (a busy key's rate window, a short backoff): a loop wakes
    // at that moment rather than up to BATCH_POLL_MS later, so a key's next free start is not lost
    // (measured: 1,000 papers at 2/s on one publisher took 10 % longer than its limit allows without).
    const soonest = Math.min(
      ...rows.map((r) => (r.status === ItemStatus.Queued && r.next ? r.next : Infinity)),
    );
    if (soonest - now < 10_000) this.wakeAt(soonest);
    return { batch: finished ?? batch, finished, written, attempted: rows.length, settled };
  }

  private emit(
    event: typeof BatchEvent.Started | typeof BatchEvent.Progress | typeof BatchEvent.Finished,
    batch: BatchRecord,
  ): void {
    this.events.publish(event, batchEventPayload(batch, this.clock.now()));
  }
}

/**
 * The most items one call of `handler` takes: its `maxCallItems`, or the batch's chunk size
 * when larger (a batch that asks for a size leases no more than that, so never gets more per call).
 */
function callSize(handler: BatchOperationHandler, chunkSize: number): number {
  return Math.max(1, chunkSize, handler.maxCallItems ?? 0);
}
