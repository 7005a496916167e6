import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../shared/clock';
import { ModuleLogger } from '../shared/module-logger';
import { ENGINE_DATABASE, type EngineDatabase } from '../shared/ports';
import { BatchEventRelay } from './batch-event-relay';
import { itemId, rowToBatch } from './batch-row.mapper';
import { BATCH_SETTINGS, type BatchSettings } from './batch.options';
import { BatchEvent, batchEventPayload } from './batch.events';
import { BatchGateway } from './batch.gateway';

/** Commits can land with a timestamp a little before the poll that should see them. */
const LOOKBACK_MS = 2000;
/** Ids per IN list. */
const PAGE = 500;

/**
 * Every process's sockets hear every batch without Redis: while events are not shared
 * through Redis, each instance reads, every PROGRESS_INTERVAL_MS, the batches its own
 * sockets listen to (their users' batches and the batches they subscribed to) that
 * changed since its last look, and relays their new states through the same coalescer
 * as its own events. `seq` is the batch's eventSeq, so states already seen (its own
 * worker's, or an earlier poll's) are dropped there, order holds, and completion is sent
 * once. Item progress comes from the items of live chunks of subscribed batches (their
 * stored stage). One or two indexed reads per interval, none while nobody listens.
 */
@Injectable()
export class BatchEventPoller implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private lastPollAt = 0;
  private failing = false;
  private readonly itemStates = new Map<string, string>();
  private readonly logger: ModuleLogger;

  constructor(
    @Inject(ENGINE_DATABASE) private readonly db: EngineDatabase,
    private readonly relay: BatchEventRelay,
    private readonly gateway: BatchGateway,
    @Inject(BATCH_SETTINGS) private readonly settings: BatchSettings,
    private readonly clock: Clock,
    logger: ModuleLogger,
  ) {
    this.logger = logger.forContext(BatchEventPoller.name);
    // Item stages this instance already relayed (its own worker's) are not sent again.
    relay.listen((message) => {
      if (message.kind === BatchEvent.ItemProgress)
        this.itemStates.set(message.event.itemId, itemState(message.event.stage, message.event.percentage));
    });
  }

  onApplicationBootstrap(): void {
    // Only what changes from now on: a socket's subscribe ack carries the state before.
    this.lastPollAt = this.clock.now();
    this.timer = setInterval(() => void this.tick(), Math.max(100, this.settings.progressIntervalMs));
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One look at the database (skipped while Redis shares events, or while the last look runs). */
  async tick(): Promise<void> {
    if (this.running) return;
    const startedAt = this.clock.now();
    const { users, batches } = this.gateway.localAudience();
    if (this.relay.sharesEvents() || (users.length === 0 && batches.length === 0)) {
      this.lastPollAt = startedAt;
      return;
    }
    this.running = true;
    try {
      await this.pollBatches(users, batches, this.lastPollAt - LOOKBACK_MS);
      if (batches.length > 0) await this.pollItems(batches);
      this.lastPollAt = startedAt;
      if (this.failing) this.logger.info('Batch event polling resumed');
      this.failing = false;
    } catch (error) {
      // The database is down or locked: the next tick tries again; logged once per streak.
      if (!this.failing) this.logger.errorWithStack('Batch event polling failed', error);
      this.failing = true;
    } finally {
      this.running = false;
    }
  }

  private async pollBatches(users: string[], batches: string[], since: number): Promise<void> {
    const d = this.db.dialect;
    for (let i = 0; i < Math.max(users.length, batches.length); i += PAGE) {
      const u = users.slice(i, i + PAGE);
      const b = batches.slice(i, i + PAGE);
      const rows = await this.db.query<Record<string, unknown>[]>(
        `SELECT * FROM "BatchOperation"
         WHERE ("userId" IN (${list(u)}) OR "id" IN (${list(b)})) AND "updatedAt" >= ${d.ts}`,
        ...u,
        ...b,
        d.timestamp(Math.max(0, since)),
      );
      for (const row of rows) {
        const batch = rowToBatch(row);
        const payload = batchEventPayload(batch, new Date(row.updatedAt as string | Date).getTime());
        this.relay.deliver(
          batch.finishedAt
            ? { kind: BatchEvent.Finished, event: payload }
            : { kind: BatchEvent.Progress, event: payload },
        );
      }
    }
  }

  /** The stored stage of items inside live chunks of the subscribed batches; sent when it changed. */
  private async pollItems(batches: string[]): Promise<void> {
    const seen = new Set<string>();
    for (let i = 0; i < batches.length; i += PAGE) {
      const page = batches.slice(i, i + PAGE);
      const rows = await this.db.query<
        { batchId: string; userId: string; seq: unknown; stage: string; progress: unknown }[]
      >(
        `SELECT b."id" AS "batchId", b."userId", i."seq", i."stage", i."progress"
         FROM "BatchOperation" b
         JOIN "BatchChunk" c ON c."batchKey" = b."key"
         JOIN "BatchJobItem" i ON i."batchKey" = c."batchKey" AND i."seq" >= c."fromSeq" AND i."seq" <= c."toSeq"
         WHERE b."id" IN (${list(page)}) AND i."stage" IS NOT NULL AND i."status" = 'queued'`,
        ...page,
      );
      for (const row of rows) {
        const id = itemId(row.batchId, Number(row.seq));
        seen.add(id);
        const state = itemState(row.stage, Number(row.progress));
        if (this.itemStates.get(id) === state) continue;
        this.itemStates.set(id, state);
        this.relay.deliver({
          kind: BatchEvent.ItemProgress,
          event: {
            batchId: row.batchId,
            userId: row.userId,
            itemId: id,
            seq: Number(row.seq),
            stage: row.stage,
            percentage: Number(row.progress),
            message: '',
            at: new Date(this.clock.now()).toISOString(),
          },
        });
      }
    }
    for (const id of this.itemStates.keys()) if (!seen.has(id)) this.itemStates.delete(id);
  }
}

function itemState(stage: string, percentage: number): string {
  return `${stage}:${Math.round(percentage)}`;
}

/** Placeholders for an IN list; an empty list matches nothing. */
function list(values: string[]): string {
  return values.length === 0 ? 'NULL' : values.map(() => '?').join(', ');
}
