import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../shared/clock';
import { ModuleLogger } from '../shared/module-logger';
import { BATCH_SETTINGS, type BatchSettings } from './batch.options';
import { BatchRepository } from './batch.repository';
import { IdempotencyService } from './idempotency.service';

const SWEEP_EVERY_MS = 60 * 60 * 1000;
const DELETE_SLICE = 1000;
/** An unsealed batch this old was left by a process that died while storing it. */
const ORPHAN_AFTER_MS = 60 * 60 * 1000;

/**
 * Deletes finished batches older than BATCH_RETENTION_DAYS with their items, in small
 * slices so no single delete holds the write lock for long; also expired idempotency
 * records and orphaned unsealed batches.
 */
@Injectable()
export class BatchRetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private readonly logger: ModuleLogger;

  constructor(
    private readonly repository: BatchRepository,
    private readonly idempotency: IdempotencyService,
    private readonly clock: Clock,
    @Inject(BATCH_SETTINGS) private readonly settings: BatchSettings,
    logger: ModuleLogger,
  ) {
    this.logger = logger.forContext(BatchRetentionService.name);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Returns how many batches were deleted. */
  async sweep(): Promise<number> {
    try {
      const now = this.clock.now();
      const expired = await this.repository.findExpired({
        finishedBefore: new Date(now - this.settings.retentionDays * 86_400_000),
        unsealedBefore: new Date(now - ORPHAN_AFTER_MS),
        limit: 500,
      });
      for (const { key, id } of expired) {
        while ((await this.repository.deleteItemsSlice(key, DELETE_SLICE)) > 0);
        await this.repository.deleteBatch(id);
      }
      await this.idempotency.deleteExpired();
      if (expired.length > 0) this.logger.business('batch.retention.swept', { deleted: expired.length });
      return expired.length;
    } catch (error) {
      this.logger.errorWithStack('Retention sweep failed', error);
      return 0;
    }
  }
}
