import path from 'node:path';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Piscina } from 'piscina';
import { AppConfig } from '../../../common/config/app-config';
import { APP_CONFIG } from '../../../common/config/config.module';
import type { ExtractedText } from './pdf-extract.worker';

/** Why an extraction failed when the PDF itself is at fault (never retried). */
export class UnreadablePdfError extends Error {}

/**
 * Extracts PDF text in a pool of worker threads (piscina), off the service's event loop:
 * FULLTEXT_EXTRACT_THREADS threads, each with a heap of FULLTEXT_EXTRACT_MEMORY_MB, and
 * FULLTEXT_EXTRACT_TIMEOUT_MS per PDF. A PDF over a cap ends its thread, not the process,
 * and fails as unreadable; an abort (cancel, pause, shutdown) ends the thread at once.
 */
@Injectable()
export class PdfExtractionPool implements OnModuleDestroy {
  private readonly pool: Piscina;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.pool = new Piscina({
      // The compiled worker beside this file (tests of the extraction spawn the compiled server).
      filename: path.join(__dirname, 'pdf-extract.worker.js'),
      name: 'extract',
      minThreads: 0,
      maxThreads: config.FULLTEXT_EXTRACT_THREADS,
      idleTimeout: 30_000,
      // pdf.js loads its parser with a dynamic import inside the thread: keep the thread's loop running.
      atomics: 'disabled',
      resourceLimits: {
        maxOldGenerationSizeMb: config.FULLTEXT_EXTRACT_MEMORY_MB,
        maxYoungGenerationSizeMb: Math.min(
          64,
          Math.max(8, Math.floor(config.FULLTEXT_EXTRACT_MEMORY_MB / 8)),
        ),
      },
    });
  }

  /**
   * The PDF's text and page count. Rejects with UnreadablePdfError for a broken PDF or one
   * over the memory or time cap, and with the signal's reason when `signal` aborts first.
   */
  async extract(pdf: Buffer, signal: AbortSignal): Promise<ExtractedText> {
    const timeout = AbortSignal.timeout(this.config.FULLTEXT_EXTRACT_TIMEOUT_MS);
    const data = new Uint8Array(pdf.buffer, pdf.byteOffset, pdf.byteLength).slice();
    try {
      return (await this.pool.run(data, {
        signal: AbortSignal.any([signal, timeout]),
        transferList: [data.buffer],
      })) as ExtractedText;
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      if (timeout.aborted)
        throw new UnreadablePdfError(
          `Extraction took longer than ${this.config.FULLTEXT_EXTRACT_TIMEOUT_MS} ms`,
        );
      if ((error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY')
        throw new UnreadablePdfError(
          `Extraction needed more than ${this.config.FULLTEXT_EXTRACT_MEMORY_MB} MB`,
        );
      throw new UnreadablePdfError(`Unreadable PDF: ${(error as Error).message}`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.destroy();
  }
}
