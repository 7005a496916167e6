import path from 'node:path';
import request from 'supertest';
import { startFakePublisher } from '../support/fake-publisher';
import { givenRedisPrefix, REDIS_URL } from '../support/redis';
import { enableBatchesOn, spawnServer, ServerProcess } from '../support/server-process';
import { givenDatabase, TEST_BACKEND, TempDatabase } from '../support/temp-database';
import { devAuth, until } from '../support/wait';

/**
 * Full text, v3 sources: an Unpaywall-style open-access lookup by DOI first
 * (FULLTEXT_RESOLVER_URL, with FULLTEXT_CONTACT_EMAIL), then the publisher. A real server
 * process (pdf-parse's worker cannot load inside Jest's VM).
 */
describe('papers.fetch-fulltext sources: open access first, then the publisher', () => {
  let publisher: Awaited<ReturnType<typeof startFakePublisher>>;
  let db: TempDatabase;
  let redis: ReturnType<typeof givenRedisPrefix> | null;
  let server: ServerProcess;
  const user = { auth: devAuth('sources-user') };

  beforeAll(async () => {
    publisher = await startFakePublisher(20, {
      '10.9999/oa-alpha': '{self}/oa-files/alpha.pdf',
      // An open copy of a paywalled paper: the paywall is never asked.
      '10.9999/paywall': '{self}/oa-files/paywalled-but-open.pdf',
      // A location on a private address: refused for that hop only, the publisher answers.
      '10.9999/ok-private': 'http://10.20.30.40/copy.pdf',
      '10.9999/ok-garbage': 'GARBAGE',
      '10.9999/ok-busy': 'BUSY',
    });
    db = await givenDatabase();
    redis = TEST_BACKEND === 'postgres' ? givenRedisPrefix() : null;
    server = await spawnServer({
      ...(redis ? { REDIS_URL, REDIS_KEY_PREFIX: redis.prefix } : {}),
      DATABASE_URL: db.url,
      LOG_DIR: path.join(db.dir, 'logs'),
      FULLTEXT_BASE_URL: `${publisher.baseUrl}`,
      FULLTEXT_RESOLVER_URL: `${publisher.baseUrl}oa/`,
      FULLTEXT_CONTACT_EMAIL: 'ops@example.org',
      FULLTEXT_ALLOW_HOSTS: publisher.host,
      FULLTEXT_RATE: '1000/60',
      FULLTEXT_PER_HOST_RATE: '1000/60',
      BATCH_RETRY_BASE_MS: '100',
      BATCH_POLL_MS: '20',
      RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
    });
    await enableBatchesOn(server);
  });
  afterAll(async () => {
    await server.stop();
    await db.remove();
    await redis?.cleanup();
    await publisher.close();
  });

  const submit = async (body: object) =>
    (await request(server.baseUrl).post('/batches').set(user.auth).send(body).expect(202)).body as {
      id: string;
    };
  const finished = async (id: string) => {
    let batch: Record<string, any> = {};
    await until(`batch ${id}`, async () => {
      batch = (await request(server.baseUrl).get(`/batches/${id}`).set(user.auth)).body;
      return typeof batch.finishedAt === 'string';
    });
    return batch;
  };

  it('downloads the open copy when the resolver knows one, else the publisher’s, and fails only when neither has it', async () => {
    const dois = [
      '10.9999/oa-alpha',
      '10.9999/paywall',
      '10.9999/ok-private',
      '10.9999/ok-garbage',
      '10.9999/ok-busy',
      '10.9999/ok-beta',
      '10.9999/missing',
    ];
    await finished(
      (
        await submit({
          operation: 'papers.import',
          items: dois.map((doi, i) => ({ title: `Source paper ${i}`, doi })),
        })
      ).id,
    );
    const papers = (await request(server.baseUrl).get('/papers?limit=100').set(user.auth).expect(200)).body
      .data as { id: string; doi: string }[];
    const byDoi = new Map(papers.map((p) => [p.doi, p.id]));
    const batch = await submit({
      operation: 'papers.fetch-fulltext',
      items: dois.map((doi) => ({ paperId: byDoi.get(doi) })),
      options: { maxAttempts: 2 },
    });
    expect(await finished(batch.id)).toMatchObject({
      status: 'completed_with_errors',
      succeededCount: 6,
      failedCount: 1,
    });

    const paper = async (doi: string) =>
      (
        await request(server.baseUrl)
          .get(`/papers/${byDoi.get(doi)}`)
          .set(user.auth)
          .expect(200)
      ).body as { fullTextStatus: string; fullText: string | null };
    expect((await paper('10.9999/oa-alpha')).fullText).toContain('Sentence of paper open access alpha.pdf.');
    expect((await paper('10.9999/paywall')).fullText).toContain('paywalled-but-open.pdf');
    for (const doi of ['10.9999/ok-private', '10.9999/ok-garbage', '10.9999/ok-busy', '10.9999/ok-beta'])
      expect((await paper(doi)).fullText).toContain(`Sentence of paper ${doi.slice('10.9999/ok-'.length)}.`);
    expect(await paper('10.9999/missing')).toMatchObject({ fullTextStatus: 'not_available', fullText: null });

    const asked = publisher.requests.map((r) => r.path);
    // The resolver is asked by DOI with the contact; the publisher only when it has no usable copy.
    expect(asked).toContain('/oa/10.9999/oa-alpha?email=ops@example.org');
    expect(asked).toContain('/oa-files/alpha.pdf');
    expect(asked).not.toContain('/10.9999/oa-alpha');
    expect(asked).not.toContain('/10.9999/paywall');
    expect(asked).toEqual(
      expect.arrayContaining(['/10.9999/ok-private', '/10.9999/ok-garbage', '/10.9999/ok-beta']),
    );

    const failed = (
      await request(server.baseUrl).get(`/batches/${batch.id}/items?status=failed`).set(user.auth).expect(200)
    ).body.data as { errorCategory: string; retryable: boolean }[];
    expect(failed).toMatchObject([{ errorCategory: 'not_found', retryable: false }]);
  });
});
