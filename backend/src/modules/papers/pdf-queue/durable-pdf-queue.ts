import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import {
  AppException,
  BatchService,
  Clock,
  itemId,
  type ItemView,
  type ModuleUser,
  seqOfItemId,
} from '../../batch';
import { ModuleLogger } from '../../shared/module-logger';
import { detectPublisher, type PaperIdentifiers } from './publisher';
import { eventsBetween, type JobCursor, jobOf, type PdfJob } from './pdf-job';

/** How the queue finds a paper: the host's own papers table, or ours. */
export interface PdfQueuePapers {
  /** The papers among `paperIds` that exist (one query for a whole page of jobs). */
  findMany(paperIds: string[]): Promise<Array<PaperIdentifiers & { id: string; userId: string }>>;
}
export const PDF_QUEUE_PAPERS = Symbol('PDF_QUEUE_PAPERS');

export interface PdfQueueSettings {
  /** The batch operation that fetches one paper (`{ paperId }` items). */
  operation: string;
  /** How often the job mirror reads what changed (every process follows every job). */
  pollMs: number;
  /** How long a user's queue batch stays open for more jobs after its last item settled. */
  keepOpenSeconds: number;
  /** Jobs the mirror keeps after they settled, and loads at start (the host's cleanup window). */
  retentionMs: number;
}
export const PDF_QUEUE_SETTINGS = Symbol('PDF_QUEUE_SETTINGS');

/** Metadata that marks a user's queue batch. */
const QUEUE_MARK = 'pdf-queue';
/** The identity the queue reads batches with (it lists every user's queue batches). */
const QUEUE_READER: ModuleUser = { userId: 'pdf-queue', roles: ['admin'] };

interface TrackedJob {
  job: PdfJob;
  cursor: JobCursor;
  batchId: string;
  seq: number;
}

interface TrackedBatch {
  id: string;
  owner: ModuleUser;
  eventSeq: number;
  maxAttempts: number;
  /** Items below this position have all settled (the mirror reads from here). */
  settledBelow: number;
  itemCount: number;
}

/**
 * A drop-in for the host's in-memory PDFQueueService, backed by durable batches: the same
 * methods (`addJob`, `getJob`, `getJobByPaperId`, `getStats`, `cleanup`), job shape and
 * `pdf.job.*` events on the host's EventEmitter2, so its controllers and `@OnEvent`
 * listeners work unchanged, while the jobs survive restarts and crashes, run in every
 * process under per-publisher limits, and show in `/batches` and on the page.
 *
 * `addJob` appends the paper to its owner's open queue batch (one per user, kept open
 * `keepOpenSeconds`; a new one when it has closed), unless the paper is already queued or
 * running. The host's getters are synchronous, so the queue keeps a mirror of the jobs
 * of the last `retentionMs`, loaded at start and brought up to date every `pollMs` from
 * the database: a read of each followed batch's event number, and of its unsettled items
 * only when something changed. Every process's mirror follows every job, so each
 * process's listeners get every job's events, in order (`eventsBetween`).
 */
@Injectable()
export class DurablePdfQueue implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly jobs = new Map<string, TrackedJob>();
  private readonly latestByPaper = new Map<string, string>();
  private readonly batches = new Map<string, TrackedBatch>();
  private readonly openBatchOf = new Map<string, string>();
  private readonly userQueues = new Map<string, Promise<unknown>>();
  private readonly logger: ModuleLogger;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private failing = false;
  private polls = 0;

  constructor(
    private readonly batchService: BatchService,
    @Inject(PDF_QUEUE_PAPERS) private readonly papers: PdfQueuePapers,
    @Inject(PDF_QUEUE_SETTINGS) private readonly settings: PdfQueueSettings,
    private readonly events: EventEmitter2,
    private readonly clock: Clock,
    logger: ModuleLogger,
  ) {
    this.logger = logger.forContext(DurablePdfQueue.name);
  }

  async onApplicationBootstrap(): Promise<void> {
    // The jobs of the last retention window, as they are now: history, not news (no events).
    await this.discover(false).catch((error: unknown) =>
      this.logger.warn('Could not load the PDF jobs; they load at the next poll', { error: String(error) }),
    );
    this.timer = setInterval(() => void this.poll(), this.settings.pollMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.polling;
  }

  /**
   * Queues the paper's full text; resolves to the job id. A paper whose job is queued or
   * running gets that job's id (no second job). Rejects when the paper does not exist or
   * has no DOI, PMID or URL, and with the module's 429 when the owner's quota is spent.
   */
  async addJob(paperId: string): Promise<string> {
    const running = this.unsettledJobOf(paperId);
    if (running) return running.id;
    const [paper] = await this.papers.findMany([paperId]);
    if (!paper) throw new Error(`Paper ${paperId} not found`);
    const publisher = detectPublisher(paper) ?? undefined;
    if (!publisher) throw new Error(`Paper ${paperId} has no DOI, PMID or URL to fetch its full text from`);
    // One user's jobs go in one at a time, so they share one open batch.
    return this.inTurn(paper.userId, async () => {
      const again = this.unsettledJobOf(paperId);
      if (again) return again.id;
      const owner: ModuleUser = { userId: paper.userId, roles: [] };
      const item = { paperId };
      const batch = await this.appendToOpenBatch(owner, item);
      const tracked = this.track(batch, owner);
      const seq = batch.itemCount - 1;
      // A poll may have met the item first (and announced it).
      const announced = this.jobs.has(itemId(batch.id, seq));
      const job = this.remember(tracked, seq, paperId, publisher, this.clock.now());
      job.job = { ...job.job, publisher };
      if (!announced) this.emit('pdf.job.queued', { jobId: job.job.id, paperId, progress: 0 });
      this.logger.business('pdf.job.queued', { jobId: job.job.id, paperId, userId: paper.userId, publisher });
      return job.job.id;
    });
  }

  /** The job, as the mirror knows it (at most `pollMs` behind the database). */
  getJob(jobId: string): PdfJob | undefined {
    return this.jobs.get(jobId)?.job;
  }

  /** The paper's latest job. */
  getJobByPaperId(paperId: string): PdfJob | undefined {
    const id = this.latestByPaper.get(paperId);
    return id === undefined ? undefined : this.getJob(id);
  }

  getStats(): {
    queueLength: number;
    totalJobs: number;
    processing: number;
    completed: number;
    failed: number;
    queued: number;
  } {
    const count = { queued: 0, processing: 0, completed: 0, failed: 0 };
    for (const { job } of this.jobs.values()) count[job.status]++;
    return { queueLength: count.queued, totalJobs: this.jobs.size, ...count };
  }

  /** Forgets settled jobs older than the retention window (their batches go with BATCH_RETENTION_DAYS). */
  async cleanup(): Promise<void> {
    const before = this.clock.now() - this.settings.retentionMs;
    let cleaned = 0;
    for (const [id, tracked] of this.jobs) {
      const done = tracked.job.completedAt;
      if (done && done.getTime() < before) {
        this.jobs.delete(id);
        if (this.latestByPaper.get(tracked.job.paperId) === id)
          this.latestByPaper.delete(tracked.job.paperId);
        cleaned++;
      }
    }
    for (const [id, batch] of this.batches)
      if (
        ![...this.jobs.values()].some((j) => j.batchId === id) &&
        this.openBatchOf.get(batch.owner.userId) !== id
      )
        this.batches.delete(id);
    if (cleaned > 0) this.logger.info('Cleaned up old PDF jobs', { cleaned });
    return Promise.resolve();
  }

  /** Brings the mirror up to date now (the timer does it every pollMs). */
  async refresh(): Promise<void> {
    await this.poll();
  }

  private unsettledJobOf(paperId: string): PdfJob | undefined {
    const job = this.getJobByPaperId(paperId);
    return job && (job.status === 'queued' || job.status === 'processing') ? job : undefined;
  }

  private async appendToOpenBatch(owner: ModuleUser, item: { paperId: string }) {
    const open = this.openBatchOf.get(owner.userId);
    if (open) {
      try {
        return (await this.batchService.append(owner, open, { items: [item] })).batch;
      } catch (error) {
        // Closed (ended past its window, or cancelled) or gone: start the next one.
        if (!(error instanceof AppException) || ![404, 409].includes(error.getStatus())) throw error;
      }
    }
    const { batch } = await this.batchService.create(owner, {
      operation: this.settings.operation,
      items: [item],
      options: { allowFailures: true, keepOpenSeconds: this.settings.keepOpenSeconds },
      metadata: { source: QUEUE_MARK },
    });
    this.openBatchOf.set(owner.userId, batch.id);
    return batch;
  }

  private track(
    batch: { id: string; itemCount: number; options: unknown },
    owner: ModuleUser,
    eventSeq = -1,
  ): TrackedBatch {
    let tracked = this.batches.get(batch.id);
    if (!tracked) {
      const maxAttempts = (batch.options as { maxAttempts?: number }).maxAttempts ?? 3;
      tracked = { id: batch.id, owner, eventSeq, maxAttempts, settledBelow: 0, itemCount: batch.itemCount };
      this.batches.set(batch.id, tracked);
    }
    tracked.itemCount = Math.max(tracked.itemCount, batch.itemCount);
    return tracked;
  }

  private remember(
    batch: TrackedBatch,
    seq: number,
    paperId: string,
    publisher: string | undefined,
    createdAt: number,
  ): TrackedJob {
    const id = itemId(batch.id, seq);
    const existing = this.jobs.get(id);
    if (existing) return existing;
    const tracked: TrackedJob = {
      batchId: batch.id,
      seq,
      cursor: { attempts: 0, retried: 0, stage: null, progress: 0, settled: false },
      job: {
        id,
        paperId,
        attempts: 0,
        maxAttempts: batch.maxAttempts,
        status: 'queued',
        progress: 0,
        publisher,
        createdAt: new Date(createdAt),
      },
    };
    this.jobs.set(id, tracked);
    this.latestByPaper.set(paperId, id);
    return tracked;
  }

  /** One look: new queue batches of any process, then what changed in the followed ones. */
  private poll(): Promise<void> {
    // One look at a time; a look may finish without waiting on anything (nothing followed).
    if (!this.polling) this.polling = this.look().finally(() => (this.polling = null));
    return this.polling;
  }

  private async look(): Promise<void> {
    await Promise.resolve();
    try {
      // Other processes' new queue batches every few looks (a list read); followed ones every look.
      if (this.polls++ % 4 === 0) await this.discover(true);
      for (const batch of [...this.batches.values()]) await this.follow(batch, true);
      if (this.failing) this.logger.info('The PDF queue reads the database again');
      this.failing = false;
    } catch (error) {
      // A database outage must not stop the process: the next look catches up.
      if (!this.failing)
        this.logger.warn('The PDF queue could not read the database', { error: String(error) });
      this.failing = true;
    }
  }

  /**
   * The queue batches created within the retention window (any process's), newest first;
   * each new one is followed from its first item. At start (`announce` false) the jobs are
   * taken as they are; later, jobs first seen here are announced from `queued` on.
   */
  private async discover(announce: boolean): Promise<void> {
    const since = this.clock.now() - this.settings.retentionMs;
    let cursor: string | undefined;
    for (;;) {
      const page = await this.batchService.list(QUEUE_READER, { limit: announce ? 50 : 100, cursor });
      let older = false;
      for (const batch of page.data) {
        if (Date.parse(batch.createdAt) < since) {
          older = true;
          break;
        }
        if (batch.operation !== this.settings.operation || !isQueueBatch(batch.metadata)) continue;
        if (this.batches.has(batch.id)) {
          if (!announce) continue;
          // Known batches come only after new ones (newest first): nothing newer remains.
          older = true;
          break;
        }
        const owner: ModuleUser = { userId: batch.userId, roles: [] };
        const tracked = this.track(batch, owner);
        if (!this.openBatchOf.has(batch.userId) && !batch.finishedAt)
          this.openBatchOf.set(batch.userId, batch.id);
        await this.follow(tracked, announce);
      }
      if (older || !page.nextCursor) return;
      // At start every page of the window; later only the first (new batches are few).
      if (announce) return;
      cursor = page.nextCursor;
    }
  }

  /** Reads the batch's items from its first unsettled one when its state moved (or an item is running). */
  private async follow(batch: TrackedBatch, announce: boolean): Promise<void> {
    const running = [...this.jobs.values()].some(
      (j) => j.batchId === batch.id && j.job.status === 'processing',
    );
    const snapshot = await this.batchService.snapshot(batch.owner, batch.id).catch((error: unknown) => {
      // Removed (BATCH_RETENTION_DAYS): its jobs are history the mirror keeps until cleanup.
      if (error instanceof AppException && error.getStatus() === 404) return null;
      throw error;
    });
    if (!snapshot) {
      this.batches.delete(batch.id);
      if (this.openBatchOf.get(batch.owner.userId) === batch.id) this.openBatchOf.delete(batch.owner.userId);
      return;
    }
    const { batch: view, eventSeq } = snapshot;
    if (eventSeq === batch.eventSeq && !running && view.itemCount <= batch.itemCount) return;
    batch.eventSeq = eventSeq;
    batch.itemCount = Math.max(batch.itemCount, view.itemCount);
    let after = batch.settledBelow - 1;
    let allSettled = true;
    for (;;) {
      const items = await this.batchService.itemsAfter(batch.owner, batch.id, after, 500);
      const found: TrackedJob[] = [];
      for (const item of items) {
        const job = this.apply(batch, item, announce);
        if (job) found.push(job);
        if (allSettled && isSettled(item.status)) batch.settledBelow = item.seq + 1;
        else allSettled = false;
      }
      await this.fillPublishers(found);
      if (items.length < 500) return;
      after = items[items.length - 1].seq;
    }
  }

  /** Brings the item's job up to date and tells its news; returns the job when it is new to this mirror. */
  private apply(batch: TrackedBatch, item: ItemView, announce: boolean): TrackedJob | null {
    const seq = seqOfItemId(batch.id, item.id) ?? item.seq;
    const paperId = paperIdOf(item.payload);
    let tracked = this.jobs.get(item.id);
    const isNew = !tracked;
    if (!tracked) {
      tracked = this.remember(batch, seq, paperId, undefined, Date.parse(item.updatedAt));
      if (announce) this.emit('pdf.job.queued', { jobId: item.id, paperId, progress: 0 });
      else
        // Loaded at start: listeners hear only what happens from now on.
        Object.assign(tracked.cursor, {
          attempts: item.attempts,
          retried: item.status === 'queued' && item.error ? item.attempts : Math.max(0, item.attempts - 1),
          stage: item.stage,
          progress: item.progress,
          settled: isSettled(item.status),
        });
    }
    const before = tracked.job;
    const startedAt =
      before.startedAt ??
      (item.attempts > 0 || item.status === 'processing' ? new Date(this.clock.now()) : undefined);
    tracked.job = jobOf(item, { ...before, startedAt });
    for (const [name, payload] of eventsBetween(tracked.cursor, item, paperId, this.clock.now()))
      this.emit(name, payload);
    return isNew ? tracked : null;
  }

  /** The publisher of jobs this process did not add (another process's, or loaded at start): one query per page. */
  private async fillPublishers(jobs: TrackedJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const papers = await this.papers.findMany(jobs.map((j) => j.job.paperId)).catch(() => []);
    const byId = new Map(papers.map((p) => [p.id, p]));
    for (const tracked of jobs) {
      const paper = byId.get(tracked.job.paperId);
      const publisher = paper ? (detectPublisher(paper) ?? undefined) : undefined;
      if (publisher) tracked.job = { ...tracked.job, publisher };
    }
  }

  /** Runs `fn` after the user's earlier calls (one user's jobs share one open batch). */
  private inTurn<T>(userId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.userQueues.get(userId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    this.userQueues.set(userId, next);
    void next
      .finally(() => {
        if (this.userQueues.get(userId) === next) this.userQueues.delete(userId);
      })
      .catch(() => undefined);
    return next;
  }

  private emit(name: string, payload: object): void {
    try {
      this.events.emit(name, payload);
    } catch (error) {
      // A throwing listener is the host's bug; it must not stop the mirror.
      this.logger.warn('A pdf.job listener threw', { event: name, error: String(error) });
    }
  }
}

function isSettled(status: string): boolean {
  return status === 'success' || status === 'failed' || status === 'cancelled';
}

function isQueueBatch(metadata: unknown): boolean {
  return (metadata as { source?: unknown } | null)?.source === QUEUE_MARK;
}

function paperIdOf(payload: unknown): string {
  const id = (payload as { paperId?: unknown } | null)?.paperId;
  return typeof id === 'string' ? id : '';
}
