import type { ItemView } from '../../batch';

/** A job as the host's PDFQueueService shows it (same fields, plus why it failed and where from). */
export interface PdfJob {
  /** The batch item's public id (`<batch id>.<position>`): `GET /batches/:id/items` shows the same item. */
  id: string;
  paperId: string;
  attempts: number;
  maxAttempts: number;
  status: 'queued' | 'processing' | 'completed' | 'failed';
  /** 0-100. */
  progress: number;
  error?: string;
  /** paywall | not_found | not_pdf | rate_limited | timeout | server_error | parse_error | blocked_address | … */
  errorCategory?: string;
  retryable?: boolean;
  /** Detected from the paper's identifiers (DOI registrant, URL host, PubMed). */
  publisher?: string;
  createdAt: Date;
  startedAt?: Date;
  completedAt?: Date;
}

/** The host's event names and payload fields, emitted on its EventEmitter2. */
export const PdfJobEvent = {
  Queued: 'pdf.job.queued',
  Processing: 'pdf.job.processing',
  Progress: 'pdf.job.progress',
  Completed: 'pdf.job.completed',
  Failed: 'pdf.job.failed',
  Retry: 'pdf.job.retry',
} as const;

export interface PdfJobEventMap {
  [PdfJobEvent.Queued]: { jobId: string; paperId: string; progress: 0 };
  [PdfJobEvent.Processing]: { jobId: string; paperId: string; progress: number; attempt: number };
  [PdfJobEvent.Progress]: { jobId: string; paperId: string; progress: number; stage: string };
  [PdfJobEvent.Completed]: { jobId: string; paperId: string; progress: 100; wordCount?: number };
  [PdfJobEvent.Failed]: {
    jobId: string;
    paperId: string;
    error: string;
    attempts: number;
    errorCategory?: string;
    retryable?: boolean;
  };
  [PdfJobEvent.Retry]: {
    jobId: string;
    paperId: string;
    attempt: number;
    nextAttemptIn: number;
    error: string;
    errorCategory?: string;
  };
}

export type PdfJobEventName = keyof PdfJobEventMap;
export type PdfJobEmit = <K extends PdfJobEventName>(name: K, payload: PdfJobEventMap[K]) => void;

/** Where the queue is in one job's life, as far as its events have told listeners. */
export interface JobCursor {
  /** Attempts whose `processing` event was sent. */
  attempts: number;
  /** Attempts whose `retry` event was sent. */
  retried: number;
  stage: string | null;
  progress: number;
  settled: boolean;
}

/** The host's progress scale for an item's stage: downloading 10-60, extracting 60-90, saving 90-99. */
export function jobProgress(stage: string | null, percentage: number): number {
  const p = Math.max(0, Math.min(100, percentage)) / 100;
  switch (stage) {
    case 'downloading':
      return Math.round(10 + 50 * p);
    case 'extracting':
      return Math.round(60 + 30 * p);
    case 'saving':
      return Math.min(99, Math.round(90 + 10 * p));
    case null:
    default:
      return 10;
  }
}

/** The job the item is now. */
export function jobOf(
  item: ItemView,
  known: { paperId: string; maxAttempts: number; publisher?: string; createdAt: Date; startedAt?: Date },
): PdfJob {
  const status =
    item.status === 'success'
      ? 'completed'
      : item.status === 'failed' || item.status === 'cancelled'
        ? 'failed'
        : item.status === 'processing'
          ? 'processing'
          : 'queued';
  const settled = status === 'completed' || status === 'failed';
  const error = item.status === 'cancelled' ? (item.error ?? 'Cancelled') : (item.error ?? undefined);
  return {
    id: item.id,
    paperId: known.paperId,
    attempts: item.attempts,
    maxAttempts: known.maxAttempts,
    status,
    progress:
      status === 'completed' ? 100 : status === 'processing' ? jobProgress(item.stage, item.progress) : 0,
    error: status === 'completed' ? undefined : error,
    errorCategory: item.errorCategory ?? undefined,
    retryable: item.retryable ?? undefined,
    publisher: known.publisher,
    createdAt: known.createdAt,
    startedAt: known.startedAt ?? (item.attempts > 0 ? new Date(item.updatedAt) : undefined),
    completedAt: settled ? new Date(item.updatedAt) : undefined,
  };
}

/**
 * The events that bring listeners from `cursor` to the item's state `now`, in the order
 * the host's queue sends them: processing per attempt, progress per stage, retry between
 * attempts, then completed or failed once. A state seen late (an item that went from
 * queued to done between two looks) still yields every step, so a listener sees each
 * job's whole life in order. Mutates `cursor`.
 */
export function eventsBetween(
  cursor: JobCursor,
  now: ItemView,
  paperId: string,
  clockNow: number,
): Array<{ [K in PdfJobEventName]: [K, PdfJobEventMap[K]] }[PdfJobEventName]> {
  const out: Array<{ [K in PdfJobEventName]: [K, PdfJobEventMap[K]] }[PdfJobEventName]> = [];
  if (cursor.settled) return out;
  const jobId = now.id;
  const error = now.error ?? 'Failed';
  const category = now.errorCategory ?? undefined;
  const retry = (attempt: number, nextAttemptIn: number) => {
    out.push([
      PdfJobEvent.Retry,
      { jobId, paperId, attempt, nextAttemptIn, error, ...(category ? { errorCategory: category } : {}) },
    ]);
    cursor.retried = attempt;
  };
  const processing = (attempt: number) => {
    out.push([PdfJobEvent.Processing, { jobId, paperId, progress: 10, attempt }]);
    cursor.attempts = attempt;
    cursor.stage = null;
    cursor.progress = 10;
  };
  // Attempts that started since the last look; each but the first followed a failure.
  for (let attempt = cursor.attempts + 1; attempt <= now.attempts; attempt++) {
    if (attempt > 1 && cursor.retried < attempt - 1) retry(attempt - 1, 0);
    processing(attempt);
  }
  if (now.status === 'processing' && now.stage) {
    const progress = jobProgress(now.stage, now.progress);
    if (now.stage !== cursor.stage || progress > cursor.progress) {
      out.push([PdfJobEvent.Progress, { jobId, paperId, progress, stage: now.stage }]);
      cursor.stage = now.stage;
      cursor.progress = progress;
    }
  }
  if (now.status === 'queued' && now.error && now.attempts > cursor.retried && now.attempts > 0) {
    const at = now.nextAttemptAt ? Date.parse(now.nextAttemptAt) : clockNow;
    retry(now.attempts, Math.max(0, at - clockNow));
  }
  if (now.status === 'success') {
    const words = (now.result as { words?: unknown; wordCount?: unknown } | null) ?? null;
    const wordCount = typeof words?.words === 'number' ? words.words : words?.wordCount;
    out.push([
      PdfJobEvent.Completed,
      { jobId, paperId, progress: 100, ...(typeof wordCount === 'number' ? { wordCount } : {}) },
    ]);
    cursor.settled = true;
  } else if (now.status === 'failed' || now.status === 'cancelled') {
    out.push([
      PdfJobEvent.Failed,
      {
        jobId,
        paperId,
        error: now.status === 'cancelled' ? (now.error ?? 'Cancelled') : error,
        attempts: now.attempts,
        ...(category ? { errorCategory: category } : {}),
        ...(now.retryable !== null ? { retryable: now.retryable } : {}),
      },
    ]);
    cursor.settled = true;
  }
  return out;
}
