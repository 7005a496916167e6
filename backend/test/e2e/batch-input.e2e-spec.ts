import { databaseChecksum } from '../support/db-checksum';
import {
  echoItems,
  givenBatch,
  givenBatchFeatureOn,
  givenUser,
  paperItems,
  TestUser,
  waitForBatch,
} from '../support/factories';
import { givenApp, TestApp } from '../support/test-app';
import { IdempotencyService } from '../../src/modules/batch/idempotency.service';

describe('POST /batches input handling (e2e)', () => {
  let sut: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    sut = await givenApp({
      MAX_BATCH_ITEMS: '10000',
      RATE_LIMIT_BATCH_OPERATIONS: '100000/3600',
      RATE_LIMIT_BATCH_ITEM_PROCESSING: '100000000/3600',
    });
    await givenBatchFeatureOn(sut);
    user = givenUser(sut);
  });
  afterAll(() => sut.close());

  const echo = (extra: Record<string, unknown> = {}) => ({
    operation: 'diagnostics.echo',
    items: [{ n: 1 }],
    ...extra,
  });
  const deep = (levels: number) => {
    let v: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < levels; i++) v = { d: v };
    return v;
  };

  const cases: [string, unknown, number, string][] = [
    ['a non-object body', [1, 2, 3], 400, 'VALIDATION_FAILED'],
    ['a missing operation', { items: [{ a: 1 }] }, 400, 'VALIDATION_FAILED'],
    ['a numeric operation', echo({ operation: 42 }), 400, 'VALIDATION_FAILED'],
    ['an unknown operation', echo({ operation: 'nope.nothing' }), 400, 'UNKNOWN_OPERATION'],
    [
      'an SQL-looking operation',
      echo({ operation: 'x\'; DROP TABLE "Paper"; --' }),
      400,
      'UNKNOWN_OPERATION',
    ],
    ['missing items', { operation: 'diagnostics.echo' }, 400, 'VALIDATION_FAILED'],
    ['empty items', echo({ items: [] }), 400, 'VALIDATION_FAILED'],
    ['items not an array', echo({ items: { a: 1 } }), 400, 'VALIDATION_FAILED'],
    ['a non-object item', echo({ items: [{ a: 1 }, 'text'] }), 400, 'VALIDATION_FAILED'],
    ['a null item', echo({ items: [null] }), 400, 'VALIDATION_FAILED'],
    ['an array item', echo({ items: [[1]] }), 400, 'VALIDATION_FAILED'],
    ['an item over 16 KiB', echo({ items: [{ s: 'x'.repeat(17_000) }] }), 400, 'VALIDATION_FAILED'],
    ['a deeply nested item', echo({ items: [deep(200)] }), 400, 'VALIDATION_FAILED'],
    ['10,001 items', echo({ items: echoItems(10_001) }), 413, 'BATCH_TOO_LARGE'],
    ['chunkSize 0', echo({ options: { chunkSize: 0 } }), 400, 'VALIDATION_FAILED'],
    ['chunkSize 501', echo({ options: { chunkSize: 501 } }), 400, 'VALIDATION_FAILED'],
    ['a fractional chunkSize', echo({ options: { chunkSize: 1.5 } }), 400, 'VALIDATION_FAILED'],
    ['maxAttempts 11', echo({ options: { maxAttempts: 11 } }), 400, 'VALIDATION_FAILED'],
    ['allowFailures as a string', echo({ options: { allowFailures: 'no' } }), 400, 'VALIDATION_FAILED'],
    ['an unknown option', echo({ options: { turbo: true } }), 400, 'VALIDATION_FAILED'],
    ['an unknown top-level field', echo({ priority: 1 }), 400, 'VALIDATION_FAILED'],
    ['metadata over 4 KiB', echo({ metadata: { s: 'x'.repeat(5000) } }), 400, 'VALIDATION_FAILED'],
    ['metadata as a string', echo({ metadata: 'hello' }), 400, 'VALIDATION_FAILED'],
    [
      'invalid papers with allowFailures false',
      { operation: 'papers.import', items: [{ title: '' }], options: { allowFailures: false } },
      400,
      'VALIDATION_FAILED',
    ],
  ];

  it.each(cases)('rejects %s and changes nothing', async (_name, body, status, code) => {
    const before = await databaseChecksum(sut.prisma);
    const res = await sut
      .http()
      .post('/batches')
      .set(user.auth)
      .send(body as object)
      .expect(status);
    expect(res.body).toMatchObject({
      statusCode: status,
      code,
      message: expect.any(String),
      correlationId: expect.any(String),
    });
    expect(JSON.stringify(res.body)).not.toMatch(/\n\s+at /);
    expect(await databaseChecksum(sut.prisma)).toBe(before);
    await sut.http().get('/health').expect(200);
  });

  it('lists the valid operations for an unknown one', async () => {
    const res = await sut
      .http()
      .post('/batches')
      .set(user.auth)
      .send(echo({ operation: 'x.y' }))
      .expect(400);
    expect(res.body.details.operations).toEqual([
      'diagnostics.echo',
      'papers.fetch-fulltext',
      'papers.import',
    ]);
  });

  it('with allowFailures false, rejects invalid papers up front with their indexes (1,000 items, 37 invalid)', async () => {
    const items = paperItems(1000, 'strict');
    const bad = new Set<number>();
    for (let i = 0; i < 37; i++) {
      const index = 7 + i * 26;
      bad.add(index);
      items[index] =
        i % 3 === 0
          ? { title: 'x', doi: 'not-a-doi' }
          : i % 3 === 1
            ? { title: '  ' }
            : { title: 'y', year: 999 };
    }
    const before = await databaseChecksum(sut.prisma);
    const res = await sut
      .http()
      .post('/batches')
      .set(user.auth)
      .send({ operation: 'papers.import', items, options: { allowFailures: false } })
      .expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.details.items.map((i: { index: number }) => i.index)).toEqual([...bad]);
    expect(res.body.details.items[0].errors[0]).toMatch(/^doi must match/);
    expect(await databaseChecksum(sut.prisma)).toBe(before);
  });

  it.each([
    ['negative limit', '/batches?limit=-1'],
    ['non-integer limit', '/batches?limit=2.5'],
    ['limit over 100', '/batches?limit=101'],
    ['bad status', '/batches?status=done'],
    ['bad cursor', '/batches?cursor=%%%'],
    ['tampered cursor', `/batches?cursor=${Buffer.from('{"t":"yesterday","id":1}').toString('base64url')}`],
    ['unknown query field', '/batches?color=red'],
  ])('GET with a %s is 400 VALIDATION_FAILED', async (_name, url) => {
    const res = await sut.http().get(url).set(user.auth).expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });

  it('answers random and foreign ids with 404', async () => {
    await sut.http().get('/batches/does-not-exist').set(user.auth).expect(404);
    await sut
      .http()
      .get(`/batches/${'z'.repeat(5000)}`)
      .set(user.auth)
      .expect(404);
    await sut
      .http()
      .get(`/batches/${encodeURIComponent("' OR 1=1 --")}/items`)
      .set(user.auth)
      .expect(404);
  });

  it('stores SQL-looking, HTML and unicode strings verbatim as data', async () => {
    const tricky = [
      { s: '\'); DROP TABLE "BatchJobItem"; --' },
      { s: '<script>alert(1)</script><img src=x onerror=alert(2)>' },
      { s: 'emoji 🚀👩‍💻 and a combining é' },
      { 'weird key "\u2028': 'line separator \u2028 and RTL \u202e text' },
    ];
    const batch = await givenBatch(sut, user, { items: tricky });
    await waitForBatch(sut, user, batch.id);
    const res = await sut.http().get(`/batches/${batch.id}/items`).set(user.auth).expect(200);
    expect(res.body.data.map((i: { payload: unknown }) => i.payload)).toEqual(tricky);
    expect(res.body.data.map((i: { result: unknown }) => i.result)).toEqual(tricky);
  });

  it.each([
    ['a NUL character', { s: 'nul \u0000 inside' }],
    ['a lone high surrogate', { s: 'lone \ud800 here' }],
    ['a lone low surrogate', { s: 'lone \udc00 here' }],
    ['a NUL in a key', { 'k\u0000': 1 }],
  ])(
    'rejects an item with %s (not storable in PostgreSQL jsonb) and changes nothing',
    async (_name, item) => {
      const before = await databaseChecksum(sut.prisma);
      const res = await sut
        .http()
        .post('/batches')
        .set(user.auth)
        .send({ operation: 'diagnostics.echo', items: [{ ok: 1 }, item] })
        .expect(400);
      expect(res.body.details.items).toEqual([{ index: 1, errors: [expect.stringContaining('NUL')] }]);
      expect(await databaseChecksum(sut.prisma)).toBe(before);
    },
  );

  describe('Idempotency-Key', () => {
    it('replays the original batch for the same key and body, status 200 with Idempotent-Replayed', async () => {
      const body = echo({ items: echoItems(20) });
      const first = await sut
        .http()
        .post('/batches')
        .set(user.auth)
        .set('Idempotency-Key', 'k-replay-1')
        .send(body)
        .expect(202);
      const again = await sut
        .http()
        .post('/batches')
        .set(user.auth)
        .set('Idempotency-Key', 'k-replay-1')
        .send(body)
        .expect(200);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body.id).toBe(first.body.id);
      expect(await sut.prisma.batchJobItem.count({ where: { batch: { id: first.body.id } } })).toBe(20);
      expect(await sut.prisma.batchOperation.count({ where: { userId: user.userId, itemCount: 20 } })).toBe(
        1,
      );
    });

    it('answers 422 IDEMPOTENCY_KEY_REUSED for the same key with another body, storing nothing', async () => {
      await sut
        .http()
        .post('/batches')
        .set(user.auth)
        .set('Idempotency-Key', 'k-reuse')
        .send(echo())
        .expect(202);
      const before = await databaseChecksum(sut.prisma);
      const res = await sut
        .http()
        .post('/batches')
        .set(user.auth)
        .set('Idempotency-Key', 'k-reuse')
        .send(echo({ items: [{ n: 2 }] }))
        .expect(422);
      expect(res.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await databaseChecksum(sut.prisma)).toBe(before);
    });

    it('keeps keys per user', async () => {
      const other = givenUser(sut);
      const a = await sut
        .http()
        .post('/batches')
        .set(user.auth)
        .set('Idempotency-Key', 'shared-key')
        .send(echo())
        .expect(202);
      const b = await sut
        .http()
        .post('/batches')
        .set(other.auth)
        .set('Idempotency-Key', 'shared-key')
        .send(echo())
        .expect(202);
      expect(a.body.id).not.toBe(b.body.id);
    });

    it('answers 409 IDEMPOTENCY_IN_PROGRESS while the first request with the key is still being handled', async () => {
      const body = echo({ items: [{ n: 'in-progress' }] });
      // The first request is mid-flight: its record exists, unfinished, with the same body.
      await sut.prisma.idempotencyRecord.create({
        data: {
          userId: user.userId,
          key: 'k-busy',
          fingerprint: IdempotencyService.fingerprint(body),
          state: 'in_progress',
          expiresAt: BigInt(Date.now() + 60_000),
        },
      });
      const before = await databaseChecksum(sut.prisma);
      const res = await sut
        .http()
        .post('/batches')
        .set(user.auth)
        .set('Idempotency-Key', 'k-busy')
        .send(body)
        .expect(409);
      expect(res.body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
      expect(await databaseChecksum(sut.prisma)).toBe(before);
    });

    it('stores one batch when two requests race with the same key', async () => {
      const body = echo({ items: echoItems(5_000) });
      const responses = await Promise.all(
        [1, 2].map(() =>
          sut.http().post('/batches').set(user.auth).set('Idempotency-Key', 'k-race').send(body),
        ),
      );
      const statuses = responses.map((r) => r.status).sort();
      expect([
        [200, 202],
        [202, 409],
      ]).toContainEqual(statuses);
      const ids = new Set(responses.filter((r) => r.status !== 409).map((r) => r.body.id));
      expect(ids.size).toBe(1);
      expect(
        await sut.prisma.batchOperation.count({ where: { userId: user.userId, itemCount: 5_000 } }),
      ).toBe(1);
    });

    it.each([
      ['empty', ''],
      ['256 characters', 'k'.repeat(256)],
    ])('rejects a %s key with 400', async (_name, key) => {
      const before = await databaseChecksum(sut.prisma);
      await sut.http().post('/batches').set(user.auth).set('Idempotency-Key', key).send(echo()).expect(400);
      expect(await databaseChecksum(sut.prisma)).toBe(before);
    });
  });

  it('stores a 10,000-item batch and processes it', async () => {
    const res = await sut
      .http()
      .post('/batches')
      .set(user.auth)
      .send({ operation: 'diagnostics.echo', items: echoItems(10_000), options: { chunkSize: 500 } })
      .expect(202);
    expect(res.headers.location).toBe(`/batches/${res.body.id}`);
    expect(await sut.prisma.batchJobItem.count({ where: { batch: { id: res.body.id } } })).toBe(10_000);
    const done = await waitForBatch(sut, user, res.body.id);
    expect(done).toMatchObject({ status: 'completed', succeededCount: 10_000 });
  });
});
