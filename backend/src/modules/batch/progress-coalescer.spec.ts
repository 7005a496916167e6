import type { BatchEventPayload } from './batch.events';
import type { BatchView } from './batch.types';
import { ProgressCoalescer } from './progress-coalescer';

function event(seq: number, processed: number, at: number, finished = false): BatchEventPayload {
  const batch = {
    id: 'b1',
    userId: 'u1',
    status: finished ? 'completed' : 'processing',
    itemCount: 100,
    processedCount: processed,
    cancelledCount: 0,
    finishedAt: finished ? new Date(at).toISOString() : null,
  } as BatchView;
  return { batch, seq, committedAt: at };
}

describe(ProgressCoalescer.name, () => {
  let now: number;
  let timers: { at: number; fn: () => void; cancelled: boolean }[];
  let sent: { kind: string; seq: number; processed: number; at: number }[];
  let sut: ProgressCoalescer;

  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((t) => !t.cancelled && t.at <= now)) {
      t.cancelled = true;
      t.fn();
    }
  };

  beforeEach(() => {
    now = 0;
    timers = [];
    sent = [];
    sut = new ProgressCoalescer(
      250,
      () => now,
      (fn, ms) => {
        const timer = { at: now + ms, fn, cancelled: false };
        timers.push(timer);
        return () => (timer.cancelled = true);
      },
      {
        progress: (e, seq) =>
          sent.push({ kind: 'progress', seq, processed: e.batch.processedCount, at: now }),
        complete: (e, seq) =>
          sent.push({ kind: 'complete', seq, processed: e.batch.processedCount, at: now }),
      },
    );
  });

  it('sends the first state at once and then at most one per interval, the newest', () => {
    sut.onProgress(event(1, 10, 0));
    advance(50);
    sut.onProgress(event(2, 20, 50));
    advance(50);
    sut.onProgress(event(3, 30, 100));
    expect(sent).toHaveLength(1);
    advance(150);
    expect(sent.map((s) => [s.processed, s.at])).toEqual([
      [10, 0],
      [30, 250],
    ]);
  });

  it('always sends the final state and then one completion, after every progress', () => {
    sut.onProgress(event(1, 10, 0));
    sut.onProgress(event(2, 50, 10));
    sut.onProgress(event(3, 100, 20, true));
    sut.onFinished(event(3, 100, 20, true));
    advance(1000);
    sut.onProgress(event(2, 50, 1000));
    expect(sent.map((s) => s.kind)).toEqual(['progress', 'progress', 'complete']);
    expect(sent[1].processed).toBe(100);
    const seqs = sent.map((s) => s.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('drops events older than what it has seen', () => {
    sut.onProgress(event(5, 50, 0));
    advance(300);
    sut.onProgress(event(4, 40, 300));
    expect(sent.map((s) => s.processed)).toEqual([50]);
  });

  it('never sends twice within an interval when a due timer loses the race to a newer event', () => {
    sut.onProgress(event(1, 1, 0));
    now = 10;
    sut.onProgress(event(2, 2, 10)); // held; timer due at 250
    now = 260; // the timer is due, but this event is handled first
    sut.onProgress(event(3, 3, 260)); // sent directly
    now = 270;
    sut.onProgress(event(4, 4, 270)); // held
    advance(0); // the old timer fires now
    const progress = sent.filter((s) => s.kind === 'progress');
    for (let i = 1; i < progress.length; i++)
      expect(progress[i].at - progress[i - 1].at).toBeGreaterThanOrEqual(250);
    advance(250);
    expect(sent.map((s) => s.seq)).toEqual([2, 6, 8]);
  });
});
