import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { ApiPressure, ApiPressureMiddleware } from './api-pressure';
import { DiscoveryModule } from '@nestjs/core';
import { ModuleAuthGuard } from '../shared/module-auth';
import type Redis from 'ioredis';
import { AsyncModuleOptions, optionsProvider } from '../shared/module-options';
import { ENGINE_DATABASE, RATE_LIMITER_PORT, REDIS_CONNECTION } from '../shared/ports';
import { BatchEnvelopeValidator } from './batch-envelope.validator';
import { Clock } from '../shared/clock';
import { DEFAULT_RATE_POLICIES, PolicyRateLimiter } from '../shared/rate-limit/policy-rate-limiter';
import { BatchEventPoller } from './batch-event-poller';
import { BatchSweeper } from './batch-sweeper';
import { BatchEventRelay } from './batch-event-relay';
import { BatchProgressBroadcaster } from './batch-progress.broadcaster';
import { BatchRetentionService } from './batch-retention.service';
import { BatchSubscriptions } from './batch-subscriptions.service';
import { BatchController } from './batch.controller';
import { BatchEventBus } from './batch.events';
import { BatchGateway } from './batch.gateway';
import { BATCH_OPTIONS, BATCH_SETTINGS, BatchModuleOptions, DEFAULT_BATCH_SETTINGS } from './batch.options';
import { BatchRepository } from './batch.repository';
import { ChunkRepository } from './chunk.repository';
import { OperationLimitsRepository } from './operation-limits.repository';
import { BatchService } from './batch.service';
import { BatchWorker } from './batch.worker';
import { IdempotencyRepository } from './idempotency.repository';
import { IdempotencyService } from './idempotency.service';
import { DiagnosticsEchoOperation } from './operations/diagnostics-echo.operation';
import { OperationRegistry } from './operations/operation.registry';

/**
 * Durable batches: HTTP API, workers, live progress. Needs FeatureFlagsModule (its
 * routes are behind the BATCH_OPERATIONS flag). Operations are found in any module by
 * the @BatchOperation() decorator.
 */
@Module({})
export class BatchModule implements NestModule {
  static forRoot(options: BatchModuleOptions): DynamicModule {
    return BatchModule.forRootAsync({ useFactory: () => options });
  }

  static forRootAsync(options: AsyncModuleOptions<BatchModuleOptions>): DynamicModule {
    return {
      module: BatchModule,
      // BatchService is the host's way in (the PDF queue drop-in, its own services): global.
      global: true,
      imports: [DiscoveryModule, ...(options.imports ?? [])],
      controllers: [BatchController],
      providers: [
        optionsProvider(BATCH_OPTIONS, options),
        {
          provide: ENGINE_DATABASE,
          inject: [BATCH_OPTIONS],
          useFactory: (o: BatchModuleOptions) => o.database,
        },
        {
          provide: RATE_LIMITER_PORT,
          inject: [BATCH_OPTIONS, Clock, REDIS_CONNECTION],
          useFactory: (o: BatchModuleOptions, clock: Clock, redis: Redis | null) =>
            o.rateLimiter ??
            new PolicyRateLimiter({
              database: o.database,
              clock,
              policies: { ...DEFAULT_RATE_POLICIES, ...o.rateLimits },
              redis,
            }),
        },
        {
          provide: BATCH_SETTINGS,
          inject: [BATCH_OPTIONS],
          useFactory: (o: BatchModuleOptions) => ({ ...DEFAULT_BATCH_SETTINGS, ...o.settings }),
        },
        ModuleAuthGuard,
        BatchEventBus,
        { provide: ApiPressure, useValue: new ApiPressure() },
        ApiPressureMiddleware,
        BatchRepository,
        ChunkRepository,
        OperationLimitsRepository,
        BatchService,
        BatchEnvelopeValidator,
        BatchWorker,
        BatchSweeper,
        BatchGateway,
        BatchSubscriptions,
        BatchEventRelay,
        BatchEventPoller,
        BatchProgressBroadcaster,
        BatchRetentionService,
        IdempotencyService,
        IdempotencyRepository,
        OperationRegistry,
        DiagnosticsEchoOperation,
      ],
      exports: [BatchService, BatchGateway, BatchRetentionService],
    };
  }

  /** Every route of the batch API counts toward ApiPressure (the worker's extra loops step aside while it answers). */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(ApiPressureMiddleware).forRoutes(BatchController);
  }
}
