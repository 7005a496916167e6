import type { ItemView } from '../../batch';
import { eventsBetween, type JobCursor, jobOf, jobProgress } from './pdf-job';

const item = (over: Partial<ItemView>): ItemView => ({
  id: 'b.0000000',
  seq: 0,
  status: 'queued',
  attempts: 0,
  error: null,
  errorCategory: null,
  retryable: null,
  result: null,
  payload: { paperId: 'p1' },
  stage: null,
  progress: 0,
  nextAttemptAt: null,
  updatedAt: '2026-12-03T10:00:00.000Z',
  ...over,
});
const fresh = (): JobCursor => ({ attempts: 0, retried: 0, stage: null, progress: 0, settled: false });
const names = (events: ReturnType<typeof eventsBetween>) =>
  events.map(([name]) => name.replace('pdf.job.', ''));

describe('eventsBetween: the host’s pdf.job.* events from two looks at an item', () => {
  it('tells every step of a job seen only when it was already done, in order', () => {
    const cursor = fresh();
    const events = eventsBetween(
      cursor,
      item({ status: 'success', attempts: 2, result: { words: 42 } }),
      'p1',
      0,
    );
    expect(names(events)).toEqual(['processing', 'retry', 'processing', 'completed']);
    expect(events[3][1]).toEqual({ jobId: 'b.0000000', paperId: 'p1', progress: 100, wordCount: 42 });
    expect(eventsBetween(cursor, item({ status: 'success', attempts: 2 }), 'p1', 0)).toEqual([]);
  });

  it('sends progress per stage, never backwards, and a retry with the time to the next attempt', () => {
    const cursor = fresh();
    expect(
      names(
        eventsBetween(
          cursor,
          item({ status: 'processing', attempts: 1, stage: 'downloading', progress: 50 }),
          'p1',
          0,
        ),
      ),
    ).toEqual(['processing', 'progress']);
    expect(
      eventsBetween(
        cursor,
        item({ status: 'processing', attempts: 1, stage: 'downloading', progress: 50 }),
        'p1',
        0,
      ),
    ).toEqual([]);
    const retry = eventsBetween(
      cursor,
      item({
        attempts: 1,
        error: 'The publisher answered 503',
        errorCategory: 'server_error',
        nextAttemptAt: new Date(5_000).toISOString(),
      }),
      'p1',
      1_000,
    );
    expect(retry).toEqual([
      [
        'pdf.job.retry',
        {
          jobId: 'b.0000000',
          paperId: 'p1',
          attempt: 1,
          nextAttemptIn: 4_000,
          error: 'The publisher answered 503',
          errorCategory: 'server_error',
        },
      ],
    ]);
    const failed = eventsBetween(
      cursor,
      item({
        status: 'failed',
        attempts: 3,
        error: 'gave up',
        errorCategory: 'server_error',
        retryable: false,
      }),
      'p1',
      0,
    );
    expect(names(failed)).toEqual(['processing', 'retry', 'processing', 'failed']);
    expect(failed[3][1]).toMatchObject({ error: 'gave up', attempts: 3, retryable: false });
  });

  it('tells nothing for an attempt given back (a held publisher), and a cancelled job fails', () => {
    const cursor = fresh();
    eventsBetween(cursor, item({ status: 'processing', attempts: 1 }), 'p1', 0);
    expect(eventsBetween(cursor, item({ status: 'queued', attempts: 0 }), 'p1', 0)).toEqual([]);
    expect(eventsBetween(cursor, item({ status: 'processing', attempts: 1 }), 'p1', 0)).toEqual([]);
    expect(names(eventsBetween(cursor, item({ status: 'cancelled', attempts: 1 }), 'p1', 0))).toEqual([
      'failed',
    ]);
  });
});

describe('jobOf', () => {
  it('maps an item onto the host’s job shape', () => {
    const known = { paperId: 'p1', maxAttempts: 3, publisher: 'elsevier', createdAt: new Date(0) };
    expect(
      jobOf(
        item({
          status: 'failed',
          attempts: 1,
          error: 'No full text (404)',
          errorCategory: 'not_found',
          retryable: false,
        }),
        known,
      ),
    ).toMatchObject({
      status: 'failed',
      progress: 0,
      errorCategory: 'not_found',
      retryable: false,
      publisher: 'elsevier',
      completedAt: new Date('2026-12-03T10:00:00.000Z'),
    });
    expect(
      jobOf(item({ status: 'processing', attempts: 1, stage: 'extracting', progress: 50 }), known),
    ).toMatchObject({
      status: 'processing',
      progress: 75,
    });
    expect(jobProgress('saving', 100)).toBe(99);
  });
});
