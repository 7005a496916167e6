import path from 'node:path';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Tinypool } from 'tinypool';
import { AppConfig } from '../../../common/config/app-config';
import { APP_CONFIG } from '../../../common/config/config.module';
import type { ExtractedText } from './pdf-extract.worker';

/** Why an extraction failed when the PDF itself is at fault (never retried). */
export class UnreadablePdfError extends Error {}

/**
 * Extracts PDF text in a pool of child processes (tinypool), off the service's event loop
 * and outside its memory: FULLTEXT_EXTRACT_WORKERS processes, each with a heap of
 * FULLTEXT_EXTRACT_MEMORY_MB, and FULLTEXT_EXTRACT_TIMEOUT_MS per PDF. A PDF over a cap
 * ends its process, never the service, and fails as unreadable; an abort (cancel, pause,
 * shutdown) ends the process at once. Worker threads were tried first (piscina with
 * `resourceLimits`): a decompression bomb then took the service's RSS to ~1 GB, and with a
 * 128 MB heap cap V8's out-of-memory in the thread aborted the whole process.
 */
@Injectable()
export class PdfExtractionPool implements OnModuleDestroy {
  private pool: Tinypool | null = null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /**
   * The PDF's text and page count. Rejects with UnreadablePdfError for a broken PDF or one
   * over the memory or time cap, and with the signal's reason when `signal` aborts first.
   */
  async extract(pdf: Buffer, signal: AbortSignal): Promise<ExtractedText> {
    const timeout = AbortSignal.timeout(this.config.FULLTEXT_EXTRACT_TIMEOUT_MS);
    try {
      return (await this.started().run(new Uint8Array(pdf.buffer, pdf.byteOffset, pdf.byteLength), {
        signal: AbortSignal.any([signal, timeout]),
      })) as ExtractedText;
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      if (timeout.aborted)
        throw new UnreadablePdfError(
          `Extraction took longer than ${this.config.FULLTEXT_EXTRACT_TIMEOUT_MS} ms`,
        );
      if (/exited unexpectedly/i.test((error as Error).message))
        throw new UnreadablePdfError(
          `Extraction needed more than ${this.config.FULLTEXT_EXTRACT_MEMORY_MB} MB (or crashed its process)`,
        );
      throw new UnreadablePdfError(`Unreadable PDF: ${(error as Error).message}`);
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool?.destroy();
  }

  /** Started at the first PDF: most processes never extract one, and tinypool is ESM (required lazily). */
  private started(): Tinypool {
    if (this.pool) return this.pool;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- ESM package, loaded by Node's require(esm) only when used
    const { Tinypool: Pool } = require('tinypool') as typeof import('tinypool');
    this.pool = new Pool({
      // The compiled worker beside this file (tests of the extraction spawn the compiled server).
      filename: path.join(__dirname, 'pdf-extract.worker.js'),
      name: 'extract',
      runtime: 'child_process',
      serialization: 'advanced',
      minThreads: 0,
      maxThreads: this.config.FULLTEXT_EXTRACT_WORKERS,
      idleTimeout: 30_000,
      execArgv: [
        `--max-old-space-size=${this.config.FULLTEXT_EXTRACT_MEMORY_MB}`,
        '--max-semi-space-size=16',
      ],
    });
    return this.pool;
  }
}
