import path from 'node:path';
import request from 'supertest';
import { startFakePublisher } from '../support/fake-publisher';
import { givenRedisPrefix, REDIS_URL } from '../support/redis';
import { enableBatchesOn, spawnServer, ServerProcess } from '../support/server-process';
import { givenDatabase, TEST_BACKEND, TempDatabase } from '../support/temp-database';
import { devAuth, until } from '../support/wait';

type Publisher = Awaited<ReturnType<typeof startFakePublisher>>;

/**
 * Per-key limits (contract v3): three publishers on their own ports, each with its own
 * concurrency and retry policy, reached through an open-access resolver; two server
 * processes on one database share the limits.
 */
describe('papers.fetch-fulltext with limits per publisher, two processes', () => {
  let resolver: Publisher;
  const publishers: Publisher[] = [];
  let db: TempDatabase;
  let redis: ReturnType<typeof givenRedisPrefix> | null;
  const servers: ServerProcess[] = [];
  const user = { auth: devAuth('per-host-user') };
  const dois: string[] = [];

  beforeAll(async () => {
    for (let k = 0; k < 3; k++) publishers.push(await startFakePublisher(60));
    // 30 papers per publisher, through the resolver; P3 also gets one 429 and one that is always down.
    const openAccess: Record<string, string> = {};
    publishers.forEach((p, k) => {
      for (let i = 0; i < 30; i++) {
        const doi = `10.9999/p${k}-${i}`;
        openAccess[doi] = `${p.baseUrl}10.9999/ok-p${k}-${i}`;
        dois.push(doi);
      }
    });
    openAccess['10.9999/p2-limited'] = `${publishers[2].baseUrl}10.9999/limited`;
    openAccess['10.9999/p2-down'] = `${publishers[2].baseUrl}10.9999/down`;
    dois.push('10.9999/p2-limited', '10.9999/p2-down');
    resolver = await startFakePublisher(0, openAccess);

    db = await givenDatabase();
    redis = TEST_BACKEND === 'postgres' ? givenRedisPrefix() : null;
    const policies = {
      [resolver.host]: { concurrency: 32, rate: '100000/60' },
      [publishers[0].host]: { concurrency: 3 },
      [publishers[1].host]: { concurrency: 2 },
      [publishers[2].host]: { concurrency: 1, maxAttempts: 2, backoffMs: 50 },
    };
    const env = (name: string) => ({
      ...(redis ? { REDIS_URL, REDIS_KEY_PREFIX: redis.prefix } : {}),
      DATABASE_URL: db.url,
      LOG_DIR: path.join(db.dir, `logs-${name}`),
      FULLTEXT_BASE_URL: resolver.baseUrl,
      FULLTEXT_RESOLVER_URL: `${resolver.baseUrl}oa/`,
      FULLTEXT_CONTACT_EMAIL: 'ops@example.org',
      FULLTEXT_ALLOW_HOSTS: [resolver, ...publishers].map((p) => p.host).join(','),
      FULLTEXT_CONCURRENCY: '12',
      FULLTEXT_RATE: '100000/60',
      FULLTEXT_PER_HOST_RATE: '100000/60',
      FULLTEXT_HOST_POLICIES: JSON.stringify(policies),
      BATCH_RETRY_BASE_MS: '50',
      BATCH_POLL_MS: '20',
      RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
      RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
    });
    servers.push(await spawnServer(env('a')), await spawnServer(env('b')));
    await enableBatchesOn(servers[0]);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await db.remove();
    await redis?.cleanup();
    await Promise.all([resolver, ...publishers].map((p) => p.close()));
  });

  const finished = async (id: string) => {
    let batch: Record<string, any> = {};
    await until(
      `batch ${id}`,
      async () => {
        batch = (await request(servers[1].baseUrl).get(`/batches/${id}`).set(user.auth)).body;
        return typeof batch.finishedAt === 'string';
      },
      120_000,
    );
    return batch;
  };

  it('never exceeds a publisher’s own concurrency, holds only the publisher that said 429, and honours its max attempts', async () => {
    const imported = await request(servers[0].baseUrl)
      .post('/batches')
      .set(user.auth)
      .send({ operation: 'papers.import', items: dois.map((doi, i) => ({ title: `Per host ${i}`, doi })) })
      .expect(202);
    await finished(imported.body.id);
    const papers = (await request(servers[0].baseUrl).get('/papers?limit=100').set(user.auth).expect(200))
      .body;
    const more = papers.nextCursor
      ? (
          await request(servers[0].baseUrl)
            .get(`/papers?limit=100&cursor=${papers.nextCursor}`)
            .set(user.auth)
            .expect(200)
        ).body.data
      : [];
    const byDoi = new Map([...papers.data, ...more].map((p: { doi: string; id: string }) => [p.doi, p.id]));
    const batch = await request(servers[0].baseUrl)
      .post('/batches')
      .set(user.auth)
      .send({
        operation: 'papers.fetch-fulltext',
        items: dois.map((doi) => ({ paperId: byDoi.get(doi) })),
        options: { chunkSize: 6, maxAttempts: 5 },
      })
      .expect(202);
    const done = await finished(batch.body.id);
    expect(done).toMatchObject({ status: 'completed_with_errors', succeededCount: 91, failedCount: 1 });

    // Each publisher's own concurrency, across both processes.
    const [p1, p2, p3] = publishers.map((p) => p.maxOpen());
    expect([p1 >= 1 && p1 <= 3, p2 >= 1 && p2 <= 2, p3]).toEqual([true, true, 1]);

    // P3's 429 held P3 only: nothing reached it before its Retry-After, the others went on meanwhile.
    const limited = publishers[2].requests.filter((r) => r.path.endsWith('/limited'));
    expect(limited.map((r) => r.status)).toEqual([429, 200]);
    const refusedAt = limited[0].at;
    expect(limited[1].at - refusedAt).toBeGreaterThanOrEqual(1900);
    expect(publishers[2].requests.filter((r) => r.at > refusedAt + 300 && r.at < refusedAt + 1900)).toEqual(
      [],
    );
    const othersMeanwhile = publishers
      .slice(0, 2)
      .flatMap((p) => p.requests)
      .filter((r) => r.at > refusedAt + 300 && r.at < refusedAt + 1900);
    if (publishers[0].requests.some((r) => r.at > refusedAt + 1900))
      expect(othersMeanwhile.length).toBeGreaterThan(0);

    // P3 gives up after its own 2 attempts (the batch allows 5); the failure says so and is final.
    expect(publishers[2].requests.filter((r) => r.path.endsWith('/down'))).toHaveLength(2);
    const failed = (
      await request(servers[0].baseUrl).get(`/batches/${batch.body.id}/items?status=failed`).set(user.auth)
    ).body.data as { attempts: number; errorCategory: string; retryable: boolean; error: string }[];
    expect(failed).toMatchObject([{ attempts: 2, errorCategory: 'server_error', retryable: false }]);
    expect(failed[0].error).toContain('gave up after 2 attempt(s)');
  });
});
