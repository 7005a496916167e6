import path from 'node:path';
import { EventEmitter2 } from '@nestjs/event-emitter';
import request from 'supertest';
import { DurablePdfQueue } from '../../src/modules/papers/pdf-queue/durable-pdf-queue';
import type { PdfJob } from '../../src/modules/papers/pdf-queue/pdf-job';
import { startFakePublisher } from '../support/fake-publisher';
import { givenRedisPrefix, REDIS_URL } from '../support/redis';
import { enableBatchesOn, spawnServer, ServerProcess } from '../support/server-process';
import { givenDatabase, TEST_BACKEND, TempDatabase } from '../support/temp-database';
import { givenApp, TestApp } from '../support/test-app';
import { devAuth, until } from '../support/wait';

type Publisher = Awaited<ReturnType<typeof startFakePublisher>>;
type Heard = { name: string; payload: Record<string, unknown> };

/** The host's event names and the payload fields its PDF controller's listeners read. */
const HOST_EVENTS: Record<string, string[]> = {
  'pdf.job.queued': ['jobId', 'paperId', 'progress'],
  'pdf.job.processing': ['jobId', 'paperId', 'progress', 'attempt'],
  'pdf.job.progress': ['jobId', 'paperId', 'progress', 'stage'],
  'pdf.job.completed': ['jobId', 'paperId', 'progress', 'wordCount'],
  'pdf.job.failed': ['jobId', 'paperId', 'error', 'attempts'],
  'pdf.job.retry': ['jobId', 'paperId', 'attempt', 'nextAttemptIn', 'error'],
};

/**
 * The drop-in for the host's PDFQueueService (contract v3, "The host's PDF queue"): the
 * host's process (in this test, without workers of its own) calls `addJob` and listens
 * with the host's event names; two server processes do the work. PDFs are parsed only
 * in real server processes (pdf.js's worker needs a dynamic import Jest's VM refuses).
 */
describe('DurablePdfQueue, the drop-in for the host’s PDF queue', () => {
  let publisher: Publisher;
  let db: TempDatabase;
  let redis: ReturnType<typeof givenRedisPrefix> | null;
  const servers: ServerProcess[] = [];
  let host: TestApp;
  let queue: DurablePdfQueue;
  const heard: Heard[] = [];
  const user = { auth: devAuth('pdf-queue-user') };
  let env: (name: string) => Record<string, string>;

  beforeAll(async () => {
    publisher = await startFakePublisher(40);
    db = await givenDatabase();
    redis = TEST_BACKEND === 'postgres' ? givenRedisPrefix() : null;
    env = (name: string) => ({
      ...(redis ? { REDIS_URL, REDIS_KEY_PREFIX: redis.prefix } : {}),
      DATABASE_URL: db.url,
      LOG_DIR: path.join(db.dir, `logs-${name}`),
      FULLTEXT_BASE_URL: publisher.baseUrl,
      FULLTEXT_ALLOW_HOSTS: publisher.host,
      FULLTEXT_PER_HOST_CONCURRENCY: '2',
      FULLTEXT_PER_HOST_RATE: '100000/60',
      FULLTEXT_RATE: '100000/60',
      BATCH_RETRY_BASE_MS: '50',
      BATCH_LEASE_MS: '2000',
      BATCH_POLL_MS: '20',
      PDF_QUEUE_POLL_MS: '50',
      RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
      RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
    });
    servers.push(await spawnServer(env('a')), await spawnServer(env('b')));
    await enableBatchesOn(servers[0]);
    host = await startHost();
  });
  afterAll(async () => {
    await host?.app.close();
    await Promise.all(servers.map((s) => s.stop()));
    await db.remove();
    await redis?.cleanup();
    await publisher.close();
  });

  /** The host's process: no workers of its own, its listeners on the host's event names. */
  async function startHost(): Promise<TestApp> {
    const app = await givenApp({ ...env('host'), BATCH_WORKERS: '0' }, db);
    queue = app.app.get(DurablePdfQueue);
    const emitter = app.app.get(EventEmitter2);
    for (const name of Object.keys(HOST_EVENTS))
      emitter.on(name, (payload: Record<string, unknown>) => heard.push({ name, payload }));
    return app;
  }

  /** Imports papers with these DOIs (under /10.9999/ of the fake publisher) and returns their ids by DOI suffix. */
  async function givenPapers(names: string[]): Promise<Map<string, string>> {
    const created = await request(servers[0].baseUrl)
      .post('/batches')
      .set(user.auth)
      .send({
        operation: 'papers.import',
        items: names.map((n) => ({ title: `Paper ${n}`, doi: `10.9999/${n}` })),
      })
      .expect(202);
    await until('papers imported', async () => {
      const batch = (await request(servers[0].baseUrl).get(`/batches/${created.body.id}`).set(user.auth))
        .body;
      return batch.status === 'completed';
    });
    const ids = new Map<string, string>();
    for (const name of names) {
      const page = await request(servers[0].baseUrl)
        .get(`/papers?doi=${encodeURIComponent(`10.9999/${name}`)}`)
        .set(user.auth)
        .expect(200);
      ids.set(name, page.body.data[0].id);
    }
    return ids;
  }

  const settled = (job: PdfJob | undefined) => job?.status === 'completed' || job?.status === 'failed';
  const eventsOf = (jobId: string) => heard.filter((e) => e.payload.jobId === jobId);

  /** A job's events in the host's order: queued, then per attempt processing and progress, retry between, one end. */
  function expectHostOrder(jobId: string, end: 'pdf.job.completed' | 'pdf.job.failed', attempts: number) {
    const events = eventsOf(jobId);
    const names = events.map((e) => e.name);
    expect(names[0]).toBe('pdf.job.queued');
    expect(names[names.length - 1]).toBe(end);
    expect(names.filter((n) => n === 'pdf.job.completed' || n === 'pdf.job.failed')).toHaveLength(1);
    const pattern =
      /^queued(,processing(,progress)*(,retry,processing(,progress)*)*)?(,retry)*,(completed|failed)$/;
    expect(names.map((n) => n.replace('pdf.job.', '')).join(',')).toMatch(pattern);
    expect(events.filter((e) => e.name === 'pdf.job.processing').map((e) => e.payload.attempt)).toEqual(
      Array.from({ length: attempts }, (_, i) => i + 1),
    );
    for (const e of events)
      for (const field of HOST_EVENTS[e.name]) {
        if (field === 'wordCount' && e.name === 'pdf.job.completed')
          expect(typeof e.payload.wordCount).toBe('number');
        else expect(e.payload).toHaveProperty(field);
      }
    const progress = events.filter((e) => e.name !== 'pdf.job.retry' && e.name !== 'pdf.job.failed');
    for (const e of progress) expect(e.payload.progress).toEqual(expect.any(Number));
  }

  it('queues, dedupes, classifies and tells the host’s listeners every step of every job, in order', async () => {
    const names = ['ok-1', 'ok-2', 'ok-3', 'missing', 'paywall', 'html', 'broken', 'unavailable', 'down'];
    const ids = await givenPapers(names);

    const jobIds = new Map<string, string>();
    for (const name of names) jobIds.set(name, await queue.addJob(ids.get(name) as string));
    // A paper already queued or running gets its job back, not a second one.
    await expect(queue.addJob(ids.get('ok-1') as string)).resolves.toBe(jobIds.get('ok-1'));
    await expect(queue.addJob('no-such-paper')).rejects.toThrow('not found');
    // One open batch for the user holds every job.
    const batchIds = new Set([...jobIds.values()].map((id) => id.slice(0, id.lastIndexOf('.'))));
    expect(batchIds.size).toBe(1);

    const first = queue.getJob(jobIds.get('ok-1') as string);
    expect(first).toMatchObject({
      id: jobIds.get('ok-1'),
      paperId: ids.get('ok-1'),
      maxAttempts: 3,
      publisher: 'doi:10.9999',
      createdAt: expect.any(Date),
    });
    expect(['queued', 'processing']).toContain(first?.status);

    await until(
      'every job settled',
      () => names.every((n) => settled(queue.getJobByPaperId(ids.get(n) as string))),
      60_000,
    );
    const job = (n: string) => queue.getJobByPaperId(ids.get(n) as string) as PdfJob;
    for (const n of ['ok-1', 'ok-2', 'ok-3', 'unavailable'])
      expect(job(n)).toMatchObject({ status: 'completed', progress: 100, completedAt: expect.any(Date) });
    expect(job('missing')).toMatchObject({
      status: 'failed',
      errorCategory: 'not_found',
      retryable: false,
      attempts: 1,
    });
    expect(job('paywall')).toMatchObject({ status: 'failed', errorCategory: 'paywall', retryable: false });
    expect(job('html')).toMatchObject({ status: 'failed', errorCategory: 'not_pdf', retryable: false });
    expect(job('broken')).toMatchObject({
      status: 'failed',
      errorCategory: expect.stringMatching(/not_pdf|parse_error/),
    });
    expect(job('down')).toMatchObject({ status: 'failed', errorCategory: 'server_error', attempts: 3 });
    expect(job('down').error).toEqual(expect.any(String));

    for (const n of ['ok-1', 'ok-2', 'ok-3'])
      expectHostOrder(jobIds.get(n) as string, 'pdf.job.completed', 1);
    expectHostOrder(jobIds.get('unavailable') as string, 'pdf.job.completed', 2);
    expectHostOrder(jobIds.get('down') as string, 'pdf.job.failed', 3);
    for (const n of ['missing', 'paywall', 'html'])
      expectHostOrder(jobIds.get(n) as string, 'pdf.job.failed', 1);
    // Retries say which attempt failed and when the next one is due; failures say why.
    const retries = eventsOf(jobIds.get('down') as string).filter((e) => e.name === 'pdf.job.retry');
    expect(retries.map((e) => e.payload.attempt)).toEqual([1, 2]);
    for (const r of retries) expect(r.payload.nextAttemptIn).toBeGreaterThanOrEqual(0);
    const failedDown = eventsOf(jobIds.get('down') as string).find((e) => e.name === 'pdf.job.failed');
    expect(failedDown?.payload).toMatchObject({ attempts: 3, errorCategory: 'server_error' });
    const completed = eventsOf(jobIds.get('ok-2') as string).find((e) => e.name === 'pdf.job.completed');
    expect(completed?.payload.wordCount).toBeGreaterThan(0);

    expect(queue.getStats()).toMatchObject({ totalJobs: names.length, completed: 4, failed: 5, queued: 0 });
    expect(queue.getStats().queueLength).toBe(0);

    // A settled paper may be queued again: a new job.
    const again = await queue.addJob(ids.get('ok-3') as string);
    expect(again).not.toBe(jobIds.get('ok-3'));
    await until('the second job settled', () => settled(queue.getJob(again)));
    expect(queue.getJobByPaperId(ids.get('ok-3') as string)?.id).toBe(again);
  });

  it('loses no job when a worker process is killed mid-queue, keeps each publisher’s slots, and a restarted host knows every job', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `ok-kill-${i}`);
    const ids = await givenPapers(names);
    const before = publisher.requests.length;
    const jobIds = await Promise.all(names.map((n) => queue.addJob(ids.get(n) as string)));

    await until('some downloads done', () => publisher.requests.length - before >= 6, 30_000);
    await servers[0].crash();
    await until(
      'every job settled after the crash',
      () => jobIds.every((id) => settled(queue.getJob(id))),
      90_000,
    );
    for (const id of jobIds) {
      expect(queue.getJob(id)?.status).toBe('completed');
      // One end per job: the job a dead process was running was taken over, not lost or doubled.
      expect(eventsOf(id).filter((e) => e.name === 'pdf.job.completed')).toHaveLength(1);
    }
    // Each publisher's slots held across both processes and the takeover.
    expect(publisher.maxOpen()).toBeLessThanOrEqual(2);
    const stored = await Promise.all(
      names.map(
        async (n) =>
          (
            await request(servers[1].baseUrl)
              .get(`/papers/${ids.get(n)}`)
              .set(user.auth)
          ).body,
      ),
    );
    expect(stored.every((p) => p.fullTextStatus === 'available')).toBe(true);

    // The host restarts: its new queue knows every job (the mirror loads them), and tells nothing old again.
    await host.app.close();
    const heardBefore = heard.length;
    host = await startHost();
    for (const [i, n] of names.entries())
      expect(queue.getJobByPaperId(ids.get(n) as string)).toMatchObject({
        id: jobIds[i],
        status: 'completed',
      });
    await new Promise((r) => setTimeout(r, 300));
    expect(heard.slice(heardBefore)).toEqual([]);
  });
});
