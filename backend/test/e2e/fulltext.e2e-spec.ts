import path from 'node:path';
import request from 'supertest';
import { startFakePublisher } from '../support/fake-publisher';
import { spawnServer, ServerProcess } from '../support/server-process';
import { givenRedisPrefix, REDIS_URL } from '../support/redis';
import { givenDatabase, TEST_BACKEND, TempDatabase } from '../support/temp-database';
import { devAuth, until } from '../support/wait';

/** Real server processes: pdf-parse loads pdf.js's worker with a dynamic import, which Jest's VM does not allow. */
describe('papers.fetch-fulltext against a fake publisher, two server processes on one database', () => {
  let publisher: Awaited<ReturnType<typeof startFakePublisher>>;
  let db: TempDatabase;
  let redis: ReturnType<typeof givenRedisPrefix> | null;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    publisher = await startFakePublisher();
    db = await givenDatabase();
    // The conformance run (TEST_BACKEND=postgres) shares limits and events through Redis too.
    redis = TEST_BACKEND === 'postgres' ? givenRedisPrefix() : null;
    const env = (name: string) => ({
      ...(redis ? { REDIS_URL, REDIS_KEY_PREFIX: redis.prefix } : {}),
      DATABASE_URL: db.url,
      BATCH_LEASE_MS: '1500',
      LOG_DIR: path.join(db.dir, `logs-${name}`),
      FULLTEXT_BASE_URL: publisher.baseUrl,
      FULLTEXT_ALLOW_HOSTS: publisher.host,
      FULLTEXT_CONCURRENCY: '3',
      FULLTEXT_RATE: '1000/60',
      FULLTEXT_PER_HOST_CONCURRENCY: '3',
      FULLTEXT_PER_HOST_RATE: '1000/60',
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
    await Promise.all([a.crash(), b.stop()]);
    await db.remove();
    await redis?.cleanup();
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
      ...Array.from({ length: 53 }, (_, n) => `10.9999/ok-${n}`),
      '10.9999/missing',
      '10.9999/paywall',
      '10.9999/html',
      '10.9999/broken',
      '10.9999/limited',
      '10.9999/redirect',
      '10.9999/unavailable',
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
    expect((await paper('10.9999/unavailable')).fullText).toContain('Sentence of paper unavailable.');
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

  it('starts at most FULLTEXT_RATE downloads in any window, and the rest wait queued', async () => {
    // A third process with a tight rate (the limit is the operation's, read by the process that claims).
    const c = await spawnServer({
      DATABASE_URL: db.url,
      ...(redis ? { REDIS_URL, REDIS_KEY_PREFIX: redis.prefix } : {}),
      LOG_DIR: path.join(db.dir, 'logs-c'),
      RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
      RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
      FULLTEXT_BASE_URL: publisher.baseUrl,
      FULLTEXT_ALLOW_HOSTS: publisher.host,
      FULLTEXT_CONCURRENCY: '16',
      FULLTEXT_RATE: '4/2',
      FULLTEXT_PER_HOST_CONCURRENCY: '16',
      FULLTEXT_PER_HOST_RATE: '1000/60',
      BATCH_POLL_MS: '20',
      BATCH_WORKERS: '1',
    });
    const [aBusy, bBusy] = [a, b];
    try {
      // Only c works on this batch: a and b would claim with their own (looser) rate.
      await Promise.all([aBusy.stop(), bBusy.stop()]);
      publisher.setTrickle(false);
      const ids = await (async () => {
        const imported = (
          await request(c.baseUrl)
            .post('/batches')
            .set(user.auth)
            .send({
              operation: 'papers.import',
              items: Array.from({ length: 10 }, (_, i) => ({ title: `R ${i}`, doi: `10.9999/ok-rate-${i}` })),
            })
        ).body as { id: string };
        await until(
          'import',
          async () =>
            (await request(c.baseUrl).get(`/batches/${imported.id}`).set(user.auth)).body.finishedAt != null,
        );
        const list = (await request(c.baseUrl).get('/papers?limit=100').set(user.auth)).body.data as {
          id: string;
          doi: string;
        }[];
        return list.filter((p) => p.doi.startsWith('10.9999/ok-rate-')).map((p) => p.id);
      })();
      const from = publisher.requests.length;
      const created = (
        await request(c.baseUrl)
          .post('/batches')
          .set(user.auth)
          .send({
            operation: 'papers.fetch-fulltext',
            items: ids.map((paperId) => ({ paperId })),
          })
      ).body as { id: string };
      // While the rate holds them back, /metrics counts them as waiting for a limit, not as queued.
      const gauge = async (status: string) =>
        Number(
          new RegExp(`^batch_items\\{status="${status}"\\} (\\d+)`, 'm').exec(
            (await request(c.baseUrl).get('/metrics')).text,
          )?.[1] ?? NaN,
        );
      await until('items waiting for the rate', async () => (await gauge('waiting_for_limit')) > 0, 2_000);
      await until(
        'rate-limited batch',
        async () =>
          (await request(c.baseUrl).get(`/batches/${created.id}`).set(user.auth)).body.finishedAt != null,
        30_000,
      );
      const starts = publisher.requests.slice(from).map((r) => r.at);
      expect(starts).toHaveLength(10);
      expect(Math.max(...starts) - Math.min(...starts)).toBeGreaterThanOrEqual(2000);
      // Sliding, not fixed windows: the 5th start comes a window after the 1st, whatever the
      // window edges (a fixed window let 8 through within a few hundred ms across an edge).
      // The margin is the jitter between a claim and its request reaching the publisher. (Counting
      // arrivals per fixed 2 s bucket instead flaked: four starts of one moment just before a
      // bucket's edge can all arrive just after it, beside the next window's four.)
      const sorted = [...starts].sort((a, b) => a - b);
      for (let i = 0; i + 4 < sorted.length; i += 1)
        expect(sorted[i + 4] - sorted[i]).toBeGreaterThanOrEqual(1500);
    } finally {
      await c.stop();
    }
  });
});

describe('papers.fetch-fulltext when the process holding the slots is SIGKILLed', () => {
  it('gives its slots back after the lease; another process fetches every paper, none stored twice', async () => {
    const publisher = await startFakePublisher();
    const db = await givenDatabase();
    const redis = TEST_BACKEND === 'postgres' ? givenRedisPrefix() : null;
    const env = (name: string) => ({
      ...(redis ? { REDIS_URL, REDIS_KEY_PREFIX: redis.prefix } : {}),
      DATABASE_URL: db.url,
      LOG_DIR: path.join(db.dir, `logs-${name}`),
      BATCH_LEASE_MS: '1500',
      BATCH_POLL_MS: '20',
      FULLTEXT_BASE_URL: publisher.baseUrl,
      FULLTEXT_ALLOW_HOSTS: publisher.host,
      FULLTEXT_CONCURRENCY: '2',
      FULLTEXT_PER_HOST_RATE: '1000/60',
      RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
      RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
    });
    const owner = { auth: devAuth('kill-user') };
    let survivor: ServerProcess | null = null;
    const doomed = await spawnServer(env('doomed'));
    try {
      await request(doomed.baseUrl)
        .put('/feature-flags/BATCH_OPERATIONS')
        .set(devAuth('root', ['admin']))
        .send({ enabled: true, rollout: 100 })
        .expect(200);
      const dois = [0, 1, 2, 3].map((n) => `10.9999/slow-k${n}`);
      const imported = (
        await request(doomed.baseUrl)
          .post('/batches')
          .set(owner.auth)
          .send({
            operation: 'papers.import',
            items: dois.map((doi, i) => ({ title: `K ${i}`, doi })),
          })
      ).body as { id: string };
      await until(
        'import',
        async () =>
          (await request(doomed.baseUrl).get(`/batches/${imported.id}`).set(owner.auth)).body.finishedAt !=
          null,
      );
      const papers = (await request(doomed.baseUrl).get('/papers?limit=10').set(owner.auth)).body.data as {
        id: string;
      }[];
      const batch = (
        await request(doomed.baseUrl)
          .post('/batches')
          .set(owner.auth)
          .send({
            operation: 'papers.fetch-fulltext',
            items: papers.map((p) => ({ paperId: p.id })),
          })
      ).body as { id: string };
      await until('both slots in use', async () => publisher.open() === 2);
      await doomed.crash();
      publisher.setTrickle(false);
      survivor = await spawnServer(env('survivor'));
      await until(
        'completion after the lease',
        async () =>
          (await request(survivor!.baseUrl).get(`/batches/${batch.id}`).set(owner.auth)).body.finishedAt !=
          null,
        30_000,
      );
      const final = (await request(survivor.baseUrl).get(`/batches/${batch.id}`).set(owner.auth)).body;
      expect(final).toMatchObject({ status: 'completed', succeededCount: 4 });
      for (const p of papers) {
        const paper = (await request(survivor.baseUrl).get(`/papers/${p.id}`).set(owner.auth)).body;
        expect(paper.fullTextStatus).toBe('available');
      }
      // Each DOI fetched once, or once more after the crash: never more.
      for (const doi of dois)
        expect(publisher.requests.filter((r) => r.path.endsWith(doi)).length).toBeLessThanOrEqual(2);
    } finally {
      await doomed.crash();
      await survivor?.stop();
      await db.remove();
      await redis?.cleanup();
      await publisher.close();
    }
  });
});
