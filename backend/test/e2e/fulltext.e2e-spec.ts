import path from 'node:path';
import request from 'supertest';
import { startFakePublisher } from '../support/fake-publisher';
import { spawnServer, ServerProcess } from '../support/server-process';
import { givenTempDatabase, TempDatabase } from '../support/temp-database';
import { devAuth, until } from '../support/wait';

/** Real server processes: pdf-parse loads pdf.js's worker with a dynamic import, which Jest's VM does not allow. */
describe('papers.fetch-fulltext against a fake publisher, two server processes on one database', () => {
  let publisher: Awaited<ReturnType<typeof startFakePublisher>>;
  let db: TempDatabase;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    publisher = await startFakePublisher();
    db = givenTempDatabase();
    const env = (name: string) => ({
      DATABASE_URL: db.url,
      LOG_DIR: path.join(db.dir, `logs-${name}`),
      FULLTEXT_BASE_URL: publisher.baseUrl,
      FULLTEXT_CONCURRENCY: '3',
      FULLTEXT_RATE: '1000/60',
      BATCH_RETRY_BASE_MS: '100',
      BATCH_POLL_MS: '20',
      RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
      RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
    });
    a = await spawnServer(env('a'));
    b = await spawnServer(env('b'));
    await request(a.baseUrl)
      .put('/feature-flags/BATCH_OPERATIONS')
      .set(devAuth('root', ['admin']))
      .send({ enabled: true, rollout: 100 })
      .expect(200);
  });
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await db.remove();
    await publisher.close();
  });

  const user = { auth: devAuth('fulltext-user') };
  const stranger = { auth: devAuth('someone-else') };
  const submit = async (body: object) =>
    (await request(a.baseUrl).post('/batches').set(user.auth).send(body).expect(202)).body as { id: string };
  const finished = async (id: string, timeoutMs = 90_000) => {
    let batch: Record<string, any> = {};
    await until(
      `batch ${id}`,
      async () => {
        batch = (await request(b.baseUrl).get(`/batches/${id}`).set(user.auth)).body;
        return batch.finishedAt !== null && batch.finishedAt !== undefined;
      },
      timeoutMs,
    );
    return batch;
  };

  it('fetches 60 papers with at most 3 downloads at once across both, classifies every failure, honours Retry-After for the whole host', async () => {
    const dois = [
      ...Array.from({ length: 54 }, (_, n) => `10.9999/ok-${n}`),
      '10.9999/missing',
      '10.9999/paywall',
      '10.9999/html',
      '10.9999/broken',
      '10.9999/limited',
      '10.9999/redirect',
    ];
    const imported = await submit({
      operation: 'papers.import',
      items: dois.map((doi, i) => ({ title: `Paper ${i}`, doi })),
    });
    await finished(imported.id);
    const papers = (await request(a.baseUrl).get('/papers?limit=100').set(user.auth).expect(200)).body
      .data as {
      id: string;
      doi: string;
    }[];
    const byDoi = new Map(papers.map((p) => [p.doi, p.id]));
    const batch = await submit({
      operation: 'papers.fetch-fulltext',
      items: [...dois.map((doi) => ({ paperId: byDoi.get(doi) })), { paperId: 'no-such-paper' }],
      options: { chunkSize: 10, maxAttempts: 3 },
    });
    const done = await finished(batch.id);
    expect(done).toMatchObject({ status: 'completed_with_errors', succeededCount: 56, failedCount: 5 });
    expect(publisher.maxOpen()).toBeLessThanOrEqual(3);

    const paper = async (doi: string) =>
      (
        await request(a.baseUrl)
          .get(`/papers/${byDoi.get(doi)}`)
          .set(user.auth)
          .expect(200)
      ).body;
    expect(await paper('10.9999/ok-7')).toMatchObject({ fullTextStatus: 'available' });
    expect((await paper('10.9999/ok-7')).fullText).toContain('Sentence of paper 7.');
    expect((await paper('10.9999/redirect')).fullText).toContain('Sentence of paper redirected.');
    expect((await paper('10.9999/limited')).fullText).toContain('Sentence of paper limited.');
    expect(await paper('10.9999/missing')).toMatchObject({ fullTextStatus: 'not_available', fullText: null });
    for (const doi of ['10.9999/paywall', '10.9999/html', '10.9999/broken'])
      expect(await paper(doi)).toMatchObject({ fullTextStatus: 'failed', fullText: null });
    await request(a.baseUrl)
      .get(`/papers/${byDoi.get('10.9999/ok-7')}`)
      .set(stranger.auth)
      .expect(404);

    // The 429 was asked again no sooner than its Retry-After, and no other download started meanwhile.
    const limited = publisher.requests.filter((r) => r.path.endsWith('/limited'));
    expect(limited.map((r) => r.status)).toEqual([429, 200]);
    const refusedAt = limited[0].at;
    expect(limited[1].at - refusedAt).toBeGreaterThanOrEqual(1900);
    const startedDuringHold = publisher.requests.filter(
      (r) => r.at > refusedAt + 400 && r.at < refusedAt + 1900 && !r.path.endsWith('/limited'),
    );
    expect(startedDuringHold).toEqual([]);

    const items = (
      await request(a.baseUrl).get(`/batches/${batch.id}/items?status=failed&limit=100`).set(user.auth)
    ).body.data as {
      error: string;
    }[];
    expect(items.map((i) => i.error)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^No full text \(404\)/),
        expect.stringMatching(/^NOT_FOUND/),
      ]),
    );
  });

  const importPapers = async (dois: string[]) => {
    const imported = await submit({
      operation: 'papers.import',
      items: dois.map((doi, i) => ({ title: `T ${i}`, doi })),
    });
    await finished(imported.id);
    const list = (await request(a.baseUrl).get('/papers?limit=100').set(user.auth)).body.data as {
      id: string;
      doi: string;
    }[];
    return dois.map((doi) => list.find((p) => p.doi === doi)!.id);
  };
  const itemsOf = async (id: string) =>
    (await request(b.baseUrl).get(`/batches/${id}/items?limit=100`).set(user.auth)).body.data as {
      status: string;
      attempts: number;
      stage: string | null;
    }[];

  it('cancel while downloads trickle: every connection closes within 1.5 s and the items end cancelled', async () => {
    publisher.setTrickle(true);
    const ids = await importPapers([0, 1, 2].map((n) => `10.9999/slow-c${n}`));
    const batch = await submit({
      operation: 'papers.fetch-fulltext',
      items: ids.map((paperId) => ({ paperId })),
    });
    await until('downloads open', async () => publisher.open() === 3);
    expect((await itemsOf(batch.id)).every((i) => i.stage === 'downloading')).toBe(true);
    await request(b.baseUrl).post(`/batches/${batch.id}/cancel`).set(user.auth).expect(202);
    const sent = Date.now();
    await until('connections closed', async () => publisher.open() === 0, 5_000);
    expect(Date.now() - sent).toBeLessThan(1_500);
    expect(await finished(batch.id, 5_000)).toMatchObject({ status: 'cancelled', cancelledCount: 3 });
    expect((await itemsOf(batch.id)).map((i) => i.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
  });

  it('pause stops the downloads, keeps the attempts, and resume fetches every paper', async () => {
    publisher.setTrickle(true);
    const ids = await importPapers([0, 1].map((n) => `10.9999/slow-p${n}`));
    const batch = await submit({
      operation: 'papers.fetch-fulltext',
      items: ids.map((paperId) => ({ paperId })),
    });
    await until('downloads open', async () => publisher.open() === 2);
    await request(a.baseUrl).post(`/batches/${batch.id}/pause`).set(user.auth).expect(202);
    await until('connections closed', async () => publisher.open() === 0, 1_500);
    await until('requeued', async () => (await itemsOf(batch.id)).every((i) => i.status === 'queued'), 2_000);
    expect((await itemsOf(batch.id)).map((i) => i.attempts)).toEqual([0, 0]);
    publisher.setTrickle(false);
    await request(a.baseUrl).post(`/batches/${batch.id}/resume`).set(user.auth).expect(202);
    expect(await finished(batch.id)).toMatchObject({ status: 'completed', succeededCount: 2 });
    expect((await itemsOf(batch.id)).map((i) => [i.status, i.attempts, i.stage])).toEqual([
      ['success', 1, 'saving'],
      ['success', 1, 'saving'],
    ]);
  });
});
