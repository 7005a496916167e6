import type { BatchEventPayload } from './batch.events';

export interface ProgressRate {
  itemsPerSecond: number;
  etaSeconds: number | null;
}

export interface ProgressSink {
  progress(event: BatchEventPayload, wireSeq: number, rate: ProgressRate): void;
  complete(event: BatchEventPayload, wireSeq: number, rate: ProgressRate): void;
}

interface BatchState {
  highestSeq: number;
  lastSentAt: number | null;
  pending: BatchEventPayload | null;
  cancelTimer: (() => void) | null;
  closedAt: number | null;
  samples: { at: number; done: number }[];
}

const RATE_WINDOW_MS = 10_000;

/**
 * The `seq` clients see for a batch state: twice the batch's eventSeq for progress,
 * one more for its completion, so it rises with every event, across processes too.
 */
export function wireSeq(eventSeq: number, finished: boolean): number {
  return eventSeq * 2 + (finished ? 1 : 0);
}
const FORGET_CLOSED_AFTER_MS = 5 * 60_000;

/**
 * Turns the engine's per-chunk progress into at most one `batch-progress` per batch per
 * interval: the first state is sent at once, later ones are held and the newest sent
 * when the interval has passed, and on completion the final state is always sent, then
 * `batch-complete`, with `wireSeq` numbers.
 */
export class ProgressCoalescer {
  private readonly batches = new Map<string, BatchState>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly schedule: (fn: () => void, ms: number) => () => void,
    private readonly sink: ProgressSink,
  ) {}

  onProgress(event: BatchEventPayload): void {
    const state = this.stateOf(event.batch.id);
    if (event.seq <= state.highestSeq) return;
    if (state.closedAt !== null) {
      if (event.batch.finishedAt !== null) return;
      state.closedAt = null; // reopened by a retry
    }
    state.highestSeq = event.seq;
    this.sample(state, event);
    if (event.batch.finishedAt !== null) {
      state.pending = event; // the Finished event that follows sends it
      return;
    }
    const now = this.now();
    if (state.lastSentAt === null || now - state.lastSentAt >= this.intervalMs) {
      this.send(state, event);
      return;
    }
    state.pending = event;
    state.cancelTimer ??= this.schedule(
      () => {
        state.cancelTimer = null;
        if (state.pending && state.closedAt === null) this.send(state, state.pending);
      },
      state.lastSentAt + this.intervalMs - now,
    );
  }

  onFinished(event: BatchEventPayload): void {
    const state = this.stateOf(event.batch.id);
    if (state.closedAt !== null && event.seq <= state.highestSeq) return;
    state.highestSeq = Math.max(state.highestSeq, event.seq);
    state.cancelTimer?.();
    state.cancelTimer = null;
    state.pending = null;
    this.sample(state, event);
    const rate = this.rateOf(state, event);
    this.sink.progress(event, wireSeq(event.seq, false), rate);
    this.sink.complete(event, wireSeq(event.seq, true), rate);
    state.closedAt = this.now();
    state.lastSentAt = this.now();
    this.forgetOldBatches();
  }

  /** Stops pending timers (shutdown). */
  dispose(): void {
    for (const state of this.batches.values()) state.cancelTimer?.();
    this.batches.clear();
  }

  private send(state: BatchState, event: BatchEventPayload): void {
    // A timer scheduled before this send would otherwise fire within the interval of it.
    state.cancelTimer?.();
    state.cancelTimer = null;
    state.pending = null;
    state.lastSentAt = this.now();
    this.sink.progress(event, wireSeq(event.seq, false), this.rateOf(state, event));
  }

  private stateOf(batchId: string): BatchState {
    let state = this.batches.get(batchId);
    if (!state) {
      state = {
        highestSeq: -1,
        lastSentAt: null,
        pending: null,
        cancelTimer: null,
        closedAt: null,
        samples: [],
      };
      this.batches.set(batchId, state);
    }
    return state;
  }

  private sample(state: BatchState, event: BatchEventPayload): void {
    const at = event.committedAt;
    state.samples.push({ at, done: event.batch.processedCount + event.batch.cancelledCount });
    while (state.samples.length > 2 && at - state.samples[0].at > RATE_WINDOW_MS) state.samples.shift();
  }

  /** Items per second over the last ~10 s of commits, and the time left at that rate. */
  private rateOf(state: BatchState, event: BatchEventPayload): ProgressRate {
    const first = state.samples[0];
    const last = state.samples[state.samples.length - 1];
    const seconds = (last.at - first.at) / 1000;
    const itemsPerSecond = seconds > 0 ? Math.round(((last.done - first.done) / seconds) * 10) / 10 : 0;
    const remaining = event.batch.itemCount - event.batch.processedCount - event.batch.cancelledCount;
    const etaSeconds = remaining <= 0 ? 0 : itemsPerSecond > 0 ? Math.ceil(remaining / itemsPerSecond) : null;
    return { itemsPerSecond, etaSeconds };
  }

  private forgetOldBatches(): void {
    const cutoff = this.now() - FORGET_CLOSED_AFTER_MS;
    for (const [id, state] of this.batches)
      if (state.closedAt !== null && state.closedAt < cutoff) this.batches.delete(id);
  }
}
