import { Injectable } from '@nestjs/common';
import { Clock } from '../shared/clock';
import { ModuleLogger } from '../shared/module-logger';
import { BatchEvent, BatchEventBus, batchEventPayload } from './batch.events';
import { BatchRepository } from './batch.repository';
import { ChunkRepository } from './chunk.repository';
import { isDeadLocalOwner } from './dead-owners';

/** How often a process looks for work a dead process left behind. */
const SWEEP_EVERY_MS = 1000;

/**
 * What a dead process leaves behind, looked for by the worker loops at most once a second:
 * chunks whose owner on this host no longer runs (taken over now, so a restart goes on in
 * seconds instead of after a whole lease), and cancelled batches whose last chunk died
 * with its process (finished, or they would stay open forever).
 */
@Injectable()
export class BatchSweeper {
  private lastSweepAt = 0;
  private readonly logger: ModuleLogger;

  constructor(
    private readonly batches: BatchRepository,
    private readonly chunks: ChunkRepository,
    private readonly events: BatchEventBus,
    private readonly clock: Clock,
    logger: ModuleLogger,
  ) {
    this.logger = logger.forContext(BatchSweeper.name);
  }

  /** Sweeps unless this process swept less than SWEEP_EVERY_MS ago; `workerId` is the caller's. */
  async sweep(workerId: string): Promise<void> {
    const now = this.clock.now();
    if (now - this.lastSweepAt < SWEEP_EVERY_MS) return;
    this.lastSweepAt = now;
    const host = `${workerId.split(':')[0]}:`;
    for (const owner of await this.chunks.liveOwners(host, now)) {
      if (!isDeadLocalOwner(owner, workerId)) continue;
      const expired = await this.chunks.expireOwner(owner, now);
      if (expired > 0)
        this.logger.info('Took over the chunks of a stopped process', { owner, chunks: expired });
    }
    for (const batchKey of await this.batches.abandonedCancels(now)) {
      const ended = await this.batches.transaction((tx) => this.batches.settleCancelled(tx, batchKey, now));
      if (!ended) continue;
      this.logger.business('batch.finished', { batchId: ended.id, status: ended.status });
      this.events.publish(BatchEvent.Finished, batchEventPayload(ended, this.clock.now()));
    }
  }
}
