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

/** The caller's papers, and the `papers.import` batch operation (found by BatchModule's discovery). */
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
  ],
})
export class PapersModule {}
