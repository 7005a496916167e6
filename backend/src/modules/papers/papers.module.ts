import { Module } from '@nestjs/common';
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
  ],
})
export class PapersModule {}
