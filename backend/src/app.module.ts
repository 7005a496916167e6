import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { StandaloneModulePorts } from './common/adapters/module-ports';
import { ClockModule } from './common/clock/clock.module';
import { CommonModule } from './common/common.module';
import { AppConfig } from './common/config/app-config';
import { ConfigModule } from './common/config/config.module';
import { BatchModule, BatchOpsCoreModule } from './modules/batch';
import { FeatureFlagsModule } from './modules/feature-flags';
import { PapersModule } from './modules/papers/papers.module';
import { Clock, SystemClock } from './modules/shared/clock';

/** Replaceable parts (tests move time with a ManualClock). */
export interface AppOverrides {
  clock?: Clock;
}

@Module({})
export class AppModule {
  /** The whole application for one validated configuration: the common layer is the modules' host. */
  static register(config: AppConfig, overrides: AppOverrides = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ClockModule.with(overrides.clock ?? new SystemClock()),
        { ...ConfigModule.forConfig(config), global: true },
        CommonModule,
        // The host's event bus (its PDF queue's pdf.job.* events go there).
        EventEmitterModule.forRoot(),
        // The host's ports, once for both modules.
        BatchOpsCoreModule.forRootAsync({
          inject: [StandaloneModulePorts],
          useFactory: (ports: StandaloneModulePorts) => ports.host(),
        }),
        FeatureFlagsModule.forRoot({
          cacheMs: config.FEATURE_FLAG_CACHE_MS,
          rolloutEvaluationMs: config.ROLLOUT_EVALUATION_MS,
        }),
        PapersModule,
        BatchModule.forRootAsync({
          inject: [StandaloneModulePorts],
          useFactory: (ports: StandaloneModulePorts) => ({
            database: ports.database(),
            rateLimiter: ports.rateLimiter(),
            diagnostics: true,
            settings: {
              maxBatchItems: config.MAX_BATCH_ITEMS,
              maxBodyBytes: config.MAX_BODY_BYTES,
              chunkSize: config.BATCH_CHUNK_SIZE,
              chunkDelayMs: config.BATCH_CHUNK_DELAY_MS,
              leaseMs: config.BATCH_LEASE_MS,
              retryBaseMs: config.BATCH_RETRY_BASE_MS,
              maxRetryAfterMs: config.BATCH_MAX_RETRY_AFTER_MS,
              maxOpenSeconds: config.BATCH_MAX_OPEN_SECONDS,
              retentionDays: config.BATCH_RETENTION_DAYS,
              workers: config.BATCH_WORKERS,
              pollMs: config.BATCH_POLL_MS,
              progressIntervalMs: config.PROGRESS_INTERVAL_MS,
            },
          }),
        }),
      ],
    };
  }
}
