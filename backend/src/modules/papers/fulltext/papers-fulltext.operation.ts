import { Inject } from '@nestjs/common';
import { z } from 'zod';
import { AppConfig } from '../../../common/config/app-config';
import { APP_CONFIG } from '../../../common/config/config.module';
import {
  BatchOperation,
  BatchOperationHandler,
  ChunkItem,
  ItemOutcome,
  OperationContext,
  OperationLimits,
} from '../../batch';
import { PapersRepository, type PaperRow } from '../papers.repository';
import { FetchFailure, failureForStatus, retryAfterMs } from './fetch-failure';
import { type Hop, OutboundClient, type OutboundResponse, TooManyRedirectsError } from './outbound-client';
import { BlockedAddressError, parseAllowHosts } from './outbound-policy';
import { PdfExtractionPool, UnreadablePdfError } from './pdf-extraction.pool';
import { FULLTEXT_SOURCE, type FullTextCandidate, type FullTextSource } from './fulltext-source';
import { HostPolicyBook } from './host-policy';

const schema = z.strictObject({ paperId: z.string({ error: 'must be a string' }).min(1).max(64) });
type FulltextItem = z.infer<typeof schema>;

const MAX_REDIRECTS = 5;
/** An open-access lookup's answer is read up to this size (Unpaywall's are a few KB). */
const MAX_LOOKUP_BYTES = 1024 * 1024;

/**
 * The host's PDF queue, made durable: downloads a paper's PDF from the places its full-text
 * source names, best first (by default an open-access lookup by DOI at FULLTEXT_RESOLVER_URL,
 * then FULLTEXT_BASE_URL + the DOI encoded as path segments), at most 5 redirects, every hop checked
 * against the outbound policy (public addresses only, allowed ports), FULLTEXT_MAX_BYTES
 * streamed within FULLTEXT_TIMEOUT_MS; extracts the text in the extraction pool (off the
 * event loop, under memory and time caps) and stores it on the paper. Limits held across
 * every process: FULLTEXT_CONCURRENCY downloads in flight, FULLTEXT_RATE starts per window;
 * a 429 holds every download to the host that sent it (not the others) until its
 * Retry-After, capped by BATCH_MAX_RETRY_AFTER_MS. Stages: downloading (percentage by
 * bytes when the length is known), extracting, saving.
 */
@BatchOperation('papers.fetch-fulltext')
export class PapersFetchFulltextOperation implements BatchOperationHandler<FulltextItem> {
  readonly itemSchema = schema;
  readonly transactional = false;
  readonly limits: OperationLimits;
  private readonly client: OutboundClient;
  private readonly hosts: HostPolicyBook;

  constructor(
    private readonly papers: PapersRepository,
    private readonly extraction: PdfExtractionPool,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(FULLTEXT_SOURCE) private readonly source: FullTextSource,
  ) {
    this.limits = { concurrency: config.FULLTEXT_CONCURRENCY, rate: config.FULLTEXT_RATE };
    this.hosts = new HostPolicyBook(
      { concurrency: config.FULLTEXT_PER_HOST_CONCURRENCY, rate: config.FULLTEXT_PER_HOST_RATE },
      config.FULLTEXT_HOST_POLICIES ?? {},
    );
    this.client = new OutboundClient({
      allowedPorts: new Set(config.FULLTEXT_ALLOWED_PORTS),
      allowHosts: parseAllowHosts(config.FULLTEXT_ALLOW_HOSTS),
    });
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
      if (!paper.doi) throw new FetchFailure('The paper has no DOI', 'not_found', 'failed');
      ctx.progress(item, { stage: 'downloading', percentage: 0, message: `Downloading ${paper.doi}` });
      const candidates = await this.source.candidates({ id: paper.id, doi: paper.doi }, (hop) =>
        this.withHost(hop, ctx, () => this.lookup(hop, ctx)),
      );
      const pdf = await this.downloadFirst(candidates, item, ctx);
      ctx.progress(item, { stage: 'extracting', percentage: 0, message: 'Extracting the text' });
      const { text, pages } = await this.extract(pdf, ctx.signal);
      ctx.progress(item, { stage: 'saving', percentage: 0, message: 'Saving the text' });
      const words = text.split(/\s+/).filter(Boolean).length;
      await this.papers.storeFullText(paper.id, { status: 'available', text, words });
      ctx.progress(item, { stage: 'saving', percentage: 100, message: `${words} words from ${pages} pages` });
      return { ok: true, result: { paperId: paper.id, words, pages } };
    } catch (error) {
      const classified = this.classify(error, ctx.signal);
      // The retry policy of the host that failed (max attempts, backoff), over the batch's.
      const failure = classified.host
        ? classified.underPolicy(this.hosts.of(classified.host), item.attempt)
        : classified;
      if (failure.deferred) return failure.toOutcome();
      if (failure.paperStatus && (!failure.retryable || item.attempt >= item.maxAttempts))
        await this.papers.storeFullText(paper.id, { status: failure.paperStatus, text: null, words: null });
      return failure.toOutcome();
    }
  }

  /**
   * Downloads the candidates in order until one is a PDF. A candidate whose host is held or
   * has no free slot makes the item wait for it (deferred, no attempt spent) rather than
   * fall to a worse one. When all fail, the failure that a retry may fix wins (an open-access
   * host's 503 over the publisher's paywall), so the item is tried again; otherwise the last one's.
   */
  private async downloadFirst(
    candidates: FullTextCandidate[],
    item: ChunkItem<FulltextItem>,
    ctx: OperationContext,
  ): Promise<Buffer> {
    let hopeful: FetchFailure | null = null;
    let last: FetchFailure | null = null;
    for (const candidate of candidates) {
      try {
        return await this.withHost(candidate.hop, ctx, () => this.download(candidate.hop, item, ctx));
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        last = this.classify(error, ctx.signal);
        last.host ??= candidate.hop.url.host;
        if (last.deferred) throw last;
        if (last.retryable && !hopeful) hopeful = last;
      }
    }
    throw (
      hopeful ?? last ?? new FetchFailure('No place to download the PDF from', 'not_found', 'not_available')
    );
  }

  /**
   * Runs `fn` holding one of the hop's host's slots (FULLTEXT_PER_HOST_CONCURRENCY and
   * FULLTEXT_PER_HOST_RATE, or the host's own policy), across every process. A host with
   * no free slot now defers the item (no attempt spent): items of other hosts go on.
   */
  private async withHost<T>(hop: Hop, ctx: OperationContext, fn: () => Promise<T>): Promise<T> {
    const host = hop.url.host;
    const { limits } = this.hosts.of(host);
    const entry = await ctx.enterKey(host, limits);
    if (entry.busyForMs !== undefined) throw FetchFailure.busy(host, entry.busyForMs);
    try {
      return await fn();
    } finally {
      await entry.release().catch(() => undefined);
    }
  }

  /** GET through the outbound policy; a 429 holds the host that sent it (in every process), other hosts go on. */
  private async fetch(hop: Hop, ctx: OperationContext, accept: string): Promise<OutboundResponse> {
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(this.config.FULLTEXT_TIMEOUT_MS)]);
    const res = await this.client.get(hop, {
      signal,
      maxRedirects: MAX_REDIRECTS,
      headers: { Accept: accept },
      beforeHop: async (url) => {
        const until = await ctx.heldUntil(url.host);
        if (until !== null) throw FetchFailure.held(url.host, until - ctx.now());
      },
    });
    const wait = retryAfterMs(res.headers['retry-after'], ctx.now());
    if (res.status === 429 && wait > 0) void ctx.hold(res.url.host, ctx.now() + wait).catch(() => undefined);
    return res;
  }

  /** The open-access lookup's JSON (read up to MAX_LOOKUP_BYTES); a body that is not JSON reads as null. */
  private async lookup(hop: Hop, ctx: OperationContext): Promise<{ status: number; body: unknown }> {
    const res = await this.fetch(hop, ctx, 'application/json');
    try {
      if (res.status !== 200) return { status: res.status, body: null };
      const chunks: Buffer[] = [];
      let received = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        received += chunk.byteLength;
        if (received > MAX_LOOKUP_BYTES) return { status: res.status, body: null };
        chunks.push(chunk);
      }
      try {
        return { status: res.status, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
      } catch {
        return { status: res.status, body: null };
      }
    } finally {
      res.body.destroy();
    }
  }

  /** Streams the PDF with a size cap, every hop checked and held hosts waited out, reporting bytes. */
  private async download(hop: Hop, item: ChunkItem<FulltextItem>, ctx: OperationContext): Promise<Buffer> {
    const res = await this.fetch(hop, ctx, 'application/pdf');
    try {
      if (res.status < 200 || res.status >= 300)
        throw failureForStatus(res.status, res.headers['retry-after'], ctx.now());
      const type = String(res.headers['content-type'] ?? '');
      if (!/pdf|octet-stream/i.test(type))
        throw new FetchFailure(`Not a PDF (${type || 'no content type'})`, 'not_pdf', 'failed');
      const max = this.config.FULLTEXT_MAX_BYTES;
      const length = Number(res.headers['content-length'] ?? 0);
      const tooLarge = () => new FetchFailure(`The PDF is larger than ${max} bytes`, 'too_large', 'failed');
      if (length > max) throw tooLarge();
      const chunks: Buffer[] = [];
      let received = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        received += chunk.byteLength;
        if (received > max) throw tooLarge();
        chunks.push(chunk);
        if (length > 0) ctx.progress(item, { stage: 'downloading', percentage: (received / length) * 100 });
      }
      return Buffer.concat(chunks);
    } finally {
      res.body.destroy();
    }
  }

  private async extract(pdf: Buffer, signal: AbortSignal): Promise<{ text: string; pages: number }> {
    try {
      return await this.extraction.extract(pdf, signal);
    } catch (error) {
      if (error instanceof UnreadablePdfError) throw new FetchFailure(error.message, 'parse_error', 'failed');
      throw error;
    }
  }

  /** Any error of one paper as a classified failure. */
  private classify(error: unknown, signal: AbortSignal): FetchFailure {
    if (error instanceof FetchFailure) return error;
    if (error instanceof BlockedAddressError)
      return new FetchFailure(error.message, 'blocked_address', 'failed');
    if (error instanceof TooManyRedirectsError)
      return new FetchFailure(error.message, 'too_many_redirects', 'failed');
    if (signal.aborted) return new FetchFailure('aborted', 'network_error', null, { retryable: true });
    const name = (error as { name?: string }).name;
    if (name === 'TimeoutError' || name === 'AbortError')
      return new FetchFailure(`No answer within ${this.config.FULLTEXT_TIMEOUT_MS} ms`, 'timeout', 'failed', {
        retryable: true,
      });
    return new FetchFailure(`Download failed: ${(error as Error).message}`, 'network_error', 'failed', {
      retryable: true,
    });
  }
}
