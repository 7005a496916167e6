import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../../common/clock/clock';
import { AppConfig } from '../../common/config/app-config';
import { APP_CONFIG } from '../../common/config/config.module';
import { AppLogger } from '../../common/logger/app-logger';
import { PrismaService } from '../../common/prisma/prisma.service';
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
  private readonly logger: AppLogger;

  constructor(
    private readonly prisma: PrismaService,
    private readonly idempotency: IdempotencyService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    logger: AppLogger,
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
      const cutoff = new Date(now - this.config.BATCH_RETENTION_DAYS * 86_400_000);
      const expired = await this.prisma.batchOperation.findMany({
        where: {
          OR: [
            { finishedAt: { lt: cutoff } },
            { sealed: false, createdAt: { lt: new Date(now - ORPHAN_AFTER_MS) } },
          ],
        },
        select: { id: true },
        take: 500,
      });
      for (const { id } of expired) {
        while (
          (await this.prisma.fastExecute(
            `DELETE FROM "BatchJobItem" WHERE "id" IN (SELECT "id" FROM "BatchJobItem" WHERE "batchId" = ? LIMIT ${DELETE_SLICE})`,
            id,
          )) > 0
        );
        await this.prisma.batchOperation.delete({ where: { id } });
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
