import { Module } from '@nestjs/common';
import type { AppConfig } from '../../common/config/app-config';
import { APP_CONFIG } from '../../common/config/config.module';
import { FULLTEXT_SOURCE, OpenAccessThenPublisher } from './fulltext/fulltext-source';
import { PapersFetchFulltextOperation } from './fulltext/papers-fulltext.operation';
import { PdfExtractionPool } from './fulltext/pdf-extraction.pool';
import { PapersImportOperation } from './papers-import.operation';
import { PapersController } from './papers.controller';
import { PapersRepository } from './papers.repository';
import { PapersService } from './papers.service';
import {
  DurablePdfQueue,
  PDF_QUEUE_PAPERS,
  PDF_QUEUE_SETTINGS,
  type PdfQueueSettings,
} from './pdf-queue/durable-pdf-queue';

/**
 * The caller's papers, the `papers.import` and `papers.fetch-fulltext` batch operations
 * (found by BatchModule's discovery), and the drop-in for the host's PDF queue.
 */
@Module({
  controllers: [PapersController],
  providers: [
    PapersRepository,
    PapersService,
    PapersImportOperation,
    PapersFetchFulltextOperation,
    PdfExtractionPool,
    {
      // Where PDFs come from: replace this provider to plug in another source.
      provide: FULLTEXT_SOURCE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new OpenAccessThenPublisher({
          publisherBaseUrl: config.FULLTEXT_BASE_URL,
          resolverUrl: config.FULLTEXT_RESOLVER_URL,
          contactEmail: config.FULLTEXT_CONTACT_EMAIL,
        }),
    },
    DurablePdfQueue,
    {
      // Whose paper it is and its identifiers: a host points this at its own papers.
      provide: PDF_QUEUE_PAPERS,
      inject: [PapersRepository],
      useFactory: (papers: PapersRepository) => ({
        findMany: (ids: string[]) => papers.findIdentifiers(ids),
      }),
    },
    {
      provide: PDF_QUEUE_SETTINGS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): PdfQueueSettings => ({
        operation: 'papers.fetch-fulltext',
        pollMs: config.PDF_QUEUE_POLL_MS,
        keepOpenSeconds: config.BATCH_MAX_OPEN_SECONDS,
        retentionMs: 7 * 86_400_000,
      }),
    },
  ],
  exports: [DurablePdfQueue],
})
export class PapersModule {}
