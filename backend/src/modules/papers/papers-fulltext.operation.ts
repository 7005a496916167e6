import { Inject } from '@nestjs/common';
import { PDFParse } from 'pdf-parse';
import { z } from 'zod';
import { AppConfig } from '../../common/config/app-config';
import { APP_CONFIG } from '../../common/config/config.module';
import {
  BatchOperation,
  BatchOperationHandler,
  ChunkItem,
  ItemOutcome,
  OperationContext,
  OperationLimits,
} from '../batch';
import { PapersRepository, type PaperRow } from './papers.repository';

const schema = z.strictObject({ paperId: z.string({ error: 'must be a string' }).min(1).max(64) });
type FulltextItem = z.infer<typeof schema>;

const MAX_REDIRECTS = 5;

/** A failure that says whether retrying can help, and when at the earliest. */
class Fetch extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly paperStatus: 'not_available' | 'failed' | null,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** `Retry-After` in seconds or as an HTTP date, in ms from now (0 when absent or unreadable). */
function retryAfterMs(header: string | null): number {
  if (!header) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}

/**
 * The host's PDF queue, made durable: downloads a paper's PDF from FULLTEXT_BASE_URL +
 * its DOI (at most 5 redirects, FULLTEXT_MAX_BYTES, FULLTEXT_TIMEOUT_MS, streamed),
 * extracts the text with pdf-parse and stores it on the paper. Limits held across every
 * process: FULLTEXT_CONCURRENCY downloads in flight, FULLTEXT_RATE starts per window; a
 * 429 holds every download to that host until its Retry-After. Stages: downloading
 * (percentage by bytes when the length is known), extracting, saving.
 */
@BatchOperation('papers.fetch-fulltext')
export class PapersFetchFulltextOperation implements BatchOperationHandler<FulltextItem> {
  readonly itemSchema = schema;
  readonly transactional = false;
  readonly limits: OperationLimits;

  constructor(
    private readonly papers: PapersRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const [count, seconds] = config.FULLTEXT_RATE.split('/').map(Number);
    this.limits = { concurrency: config.FULLTEXT_CONCURRENCY, rate: { count, windowMs: seconds * 1000 } };
  }

  async process(items: ChunkItem<FulltextItem>[], ctx: OperationContext): Promise<ItemOutcome[]> {
    // One read for the chunk's papers; then the chunk holds one operation slot per item, so
    // the downloads may all run at once, and each stores its paper as soon as it is done.
    const papers = await this.papers.findManyForUser(
      ctx.userId,
      items.map((item) => item.payload.paperId),
    );
    return Promise.all(items.map((item) => this.fetchOne(item, papers.get(item.payload.paperId), ctx)));
  }

  private async fetchOne(
    item: ChunkItem<FulltextItem>,
    paper: PaperRow | undefined,
    ctx: OperationContext,
  ): Promise<ItemOutcome> {
    if (!paper) return { ok: false, error: 'NOT_FOUND: no such paper of the batch owner', permanent: true };
    try {
      if (!paper.doi) throw new Fetch('The paper has no DOI', true, 'failed');
      ctx.progress(item, { stage: 'downloading', percentage: 0, message: `Downloading ${paper.doi}` });
      const pdf = await this.download(new URL(paper.doi, this.config.FULLTEXT_BASE_URL), item, ctx);
      ctx.progress(item, { stage: 'extracting', percentage: 0, message: 'Extracting the text' });
      const { text, pages } = await this.extract(pdf);
      ctx.progress(item, { stage: 'saving', percentage: 0, message: 'Saving the text' });
      const words = text.split(/\s+/).filter(Boolean).length;
      await this.papers.storeFullText(paper.id, { status: 'available', text, words });
      ctx.progress(item, { stage: 'saving', percentage: 100, message: `${words} words from ${pages} pages` });
      return { ok: true, result: { paperId: paper.id, words, pages } };
    } catch (error) {
      const failure =
        error instanceof Fetch
          ? error
          : new Fetch(
              ctx.signal.aborted ? 'aborted' : `Download failed: ${(error as Error).message}`,
              false,
              null,
            );
      if (failure.paperStatus && (failure.permanent || item.attempt >= 3))
        await this.papers.storeFullText(paper.id, { status: failure.paperStatus, text: null, words: null });
      return {
        ok: false,
        error: failure.message,
        permanent: failure.permanent,
        retryAfterMs: failure.retryAfterMs,
      };
    }
  }

  /** Follows redirects by hand (counted), streams the body with a size cap, reports bytes. */
  private async download(start: URL, item: ChunkItem<FulltextItem>, ctx: OperationContext): Promise<Buffer> {
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(this.config.FULLTEXT_TIMEOUT_MS)]);
    let url = start;
    for (let hop = 0; ; hop++) {
      const res = await fetch(url, { redirect: 'manual', signal, headers: { Accept: 'application/pdf' } });
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        await res.body?.cancel();
        if (hop >= MAX_REDIRECTS) throw new Fetch(`More than ${MAX_REDIRECTS} redirects`, true, 'failed');
        url = new URL(res.headers.get('location') as string, url);
        continue;
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw this.failureFor(res.status, res.headers.get('retry-after'), url, ctx);
      }
      const type = res.headers.get('content-type') ?? '';
      if (!/pdf|octet-stream/i.test(type)) {
        await res.body?.cancel();
        throw new Fetch(`Not a PDF (${type || 'no content type'})`, true, 'failed');
      }
      const length = Number(res.headers.get('content-length') ?? 0);
      if (length > this.config.FULLTEXT_MAX_BYTES) {
        await res.body?.cancel();
        throw new Fetch(`The PDF is larger than ${this.config.FULLTEXT_MAX_BYTES} bytes`, true, 'failed');
      }
      const chunks: Buffer[] = [];
      let received = 0;
      const reader = res.body?.getReader();
      for (;;) {
        const next = reader ? await reader.read() : { done: true as const, value: undefined };
        if (next.done) break;
        received += next.value.byteLength;
        if (received > this.config.FULLTEXT_MAX_BYTES) {
          await reader?.cancel();
          throw new Fetch(`The PDF is larger than ${this.config.FULLTEXT_MAX_BYTES} bytes`, true, 'failed');
        }
        chunks.push(Buffer.from(next.value));
        if (length > 0) ctx.progress(item, { stage: 'downloading', percentage: (received / length) * 100 });
      }
      return Buffer.concat(chunks);
    }
  }

  private failureFor(status: number, retryAfter: string | null, url: URL, ctx: OperationContext): Fetch {
    if (status === 404 || status === 410) return new Fetch(`No full text (${status})`, true, 'not_available');
    if (status === 401 || status === 403)
      return new Fetch(`Paywalled or forbidden (${status})`, true, 'failed');
    if (status === 429 || status === 502 || status === 503 || status === 504 || status >= 500) {
      const wait = retryAfterMs(retryAfter);
      // Every download to this host waits, in every process, not only this item.
      if (status === 429 && wait > 0) void ctx.hold(url.host, Date.now() + wait).catch(() => undefined);
      return new Fetch(`The publisher answered ${status}`, false, 'failed', wait || undefined);
    }
    return new Fetch(`The publisher answered ${status}`, true, 'failed');
  }

  private async extract(pdf: Buffer): Promise<{ text: string; pages: number }> {
    const parser = new PDFParse({ data: new Uint8Array(pdf) });
    try {
      const result = await parser.getText({ pageJoiner: '' });
      return { text: result.text.trim(), pages: result.total };
    } catch (error) {
      throw new Fetch(`Unreadable PDF: ${(error as Error).message}`, true, 'failed');
    } finally {
      await parser.destroy();
    }
  }
}
