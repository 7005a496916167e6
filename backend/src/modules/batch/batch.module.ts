import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { PapersModule } from '../papers/papers.module';
import { BatchEventRelay } from './batch-event-relay';
import { BatchEnvelopeValidator } from './batch-envelope.validator';
import { BatchRetentionService } from './batch-retention.service';
import { BatchController } from './batch.controller';
import { BatchGateway } from './batch.gateway';
import { BatchRepository } from './batch.repository';
import { BatchService } from './batch.service';
import { BatchWorker } from './batch.worker';
import { IdempotencyService } from './idempotency.service';
import { DiagnosticsEchoOperation } from './operations/diagnostics-echo.operation';
import { OperationRegistry } from './operations/operation.registry';
import { PapersImportOperation } from './operations/papers-import.operation';

@Module({
  imports: [DiscoveryModule, PapersModule],
  controllers: [BatchController],
  providers: [
    BatchRepository,
    BatchService,
    BatchEnvelopeValidator,
    BatchWorker,
    BatchGateway,
    BatchEventRelay,
    BatchRetentionService,
    IdempotencyService,
    OperationRegistry,
    PapersImportOperation,
    DiagnosticsEchoOperation,
  ],
  exports: [BatchService, BatchGateway],
})
export class BatchModule {}
