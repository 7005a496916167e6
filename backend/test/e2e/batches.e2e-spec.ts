import { givenApp, TestApp } from '../support/test-app';
import {
  echoItems,
  givenBatch,
  givenBatchFeatureOn,
  givenUser,
  paperItems,
  waitForBatch,
} from '../support/factories';

describe('Batches (e2e)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await givenApp({ BATCH_RETRY_BASE_MS: '10', RATE_LIMIT_BATCH_OPERATIONS: '1000/3600' });
    await givenBatchFeatureOn(sut);
  });
  afterAll(() => sut.close());

  it('processes an echo batch to completed with exact counters', async () => {
    const user = givenUser(sut);
    const created = await givenBatch(sut, user, { items: echoItems(250), options: { chunkSize: 50 } });
    expect(created).toMatchObject({ status: 'pending', itemCount: 250, userId: user.userId });
    const done = await waitForBatch(sut, user, created.id);
    expect(done).toMatchObject({
      status: 'completed',
      processedCount: 250,
      succeededCount: 250,
      failedCount: 0,
      percentage: 100,
    });
    const items = await sut.http().get(`/batches/${created.id}/items?limit=100`).set(user.auth).expect(200);
    expect(items.body.data).toHaveLength(100);
    expect(items.body.data[0]).toMatchObject({
      seq: 0,
      status: 'success',
      attempts: 1,
      result: { n: 0 },
      payload: { n: 0 },
    });
    expect(items.body.nextCursor).toEqual(expect.any(String));
  });

  it('imports 1,000 papers with 37 invalid ones: completed_with_errors, failures never retried, the rest match the papers table', async () => {
    const user = givenUser(sut);
    const items: Record<string, unknown>[] = paperItems(1000, 'k');
    const invalid = new Map<number, string>();
    for (let i = 0; i < 37; i++) {
      const index = 5 + i * 27;
      const kind = i % 3;
      items[index] =
        kind === 0
          ? { title: 'Bad DOI', doi: 'doi:nope' }
          : kind === 1
            ? { title: '   ' }
            : { title: 'Too late', year: 2500 };
      invalid.set(
        index,
        kind === 0
          ? 'doi must match'
          : kind === 1
            ? 'title must not be blank'
            : 'year must be between 1000 and 2100',
      );
    }
    const created = await givenBatch(sut, user, {
      operation: 'papers.import',
      items,
      options: { chunkSize: 100 },
    });
    const done = await waitForBatch(sut, user, created.id);
    expect(done).toMatchObject({
      status: 'completed_with_errors',
      failedCount: 37,
      succeededCount: 963,
      processedCount: 1000,
    });

    const failed = await sut.prisma.batchJobItem.findMany({
      where: { batch: { id: created.id }, status: 'failed' },
      orderBy: { seq: 'asc' },
    });
    expect(failed.map((f) => f.seq)).toEqual([...invalid.keys()]);
    for (const item of failed) {
      expect(item.error).toContain(invalid.get(item.seq));
      expect(item.attempts).toBe(1);
    }
    const papers = await sut.prisma.paper.findMany({ where: { userId: user.userId } });
    expect(papers).toHaveLength(963);
    const succeeded = await sut.prisma.batchJobItem.findMany({
      where: { batch: { id: created.id }, status: 'success' },
    });
    const paperIds = new Set(papers.map((p) => p.id));
    expect(new Set(succeeded.map((i) => (i.result as { paperId: string }).paperId))).toEqual(paperIds);
    expect(succeeded.every((i) => (i.result as { created: boolean }).created)).toBe(true);

    // The same DOIs again: every paper is updated, none duplicated.
    const again = await givenBatch(sut, user, {
      operation: 'papers.import',
      items: paperItems(1000, 'k').map((p) => ({ ...p, title: `${String(p.title)} (v2)` })),
    });
    const second = await waitForBatch(sut, user, again.id);
    expect(second).toMatchObject({ status: 'completed', succeededCount: 1000 });
    expect(await sut.prisma.paper.count({ where: { userId: user.userId } })).toBe(1000);
    const updated = await sut.prisma.batchJobItem.findMany({ where: { batch: { id: again.id } } });
    expect(updated.filter((i) => (i.result as { created: boolean }).created === false)).toHaveLength(963);
    const one = await sut.http().get('/papers?doi=10.1000/k-0').set(user.auth).expect(200);
    expect(one.body).toMatchObject({ total: 1, data: [{ doi: '10.1000/k-0', title: 'Paper k 0 (v2)' }] });
    const other = givenUser(sut);
    expect((await sut.http().get('/papers').set(other.auth).expect(200)).body.total).toBe(0);
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const page: { body: { data: { id: string }[]; nextCursor: string | null } } = await sut
        .http()
        .get(`/papers?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
        .set(user.auth)
        .expect(200);
      page.body.data.forEach((p) => seen.add(p.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.size).toBe(1000);
  });

  it('answers many reads at once, each caller with its own batch, and a read after a pause sees it', async () => {
    // On PostgreSQL, reads of batches by id that arrive while one is on its way share a statement.
    const owner = givenUser(sut);
    const other = givenUser(sut);
    const slow = { items: echoItems(400, { delayMs: 20 }), options: { chunkSize: 10 } };
    const mine = [await givenBatch(sut, owner, slow), await givenBatch(sut, owner, { items: echoItems(3) })];
    const theirs = await givenBatch(sut, other, { items: echoItems(2) });
    const reads = Array.from({ length: 60 }, (_, i) => {
      const [user, batch] = [
        [owner, mine[0]],
        [owner, mine[1]],
        [other, theirs],
        [other, mine[0]],
      ][i % 4] as [typeof owner, typeof theirs];
      return sut
        .http()
        .get(`/batches/${batch.id}`)
        .set(user.auth)
        .then((res) => ({ user, batch, res }));
    });
    for (const { user, batch, res } of await Promise.all(reads)) {
      if (user === other && batch !== theirs) {
        expect(res.status).toBe(404);
        expect(res.body.code).toBe('NOT_FOUND');
      } else {
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ id: batch.id, userId: user.userId, itemCount: batch.itemCount });
      }
    }

    // A read that starts after the pause was answered never shows the state before it,
    // however many reads of the same batch are on their way meanwhile.
    const before = Array.from({ length: 20 }, () =>
      sut
        .http()
        .get(`/batches/${mine[0].id}`)
        .set(owner.auth)
        .then((res) => res.status),
    );
    await sut.http().post(`/batches/${mine[0].id}/pause`).set(owner.auth).expect(202);
    const after = await Promise.all(
      Array.from({ length: 20 }, () => sut.http().get(`/batches/${mine[0].id}`).set(owner.auth).expect(200)),
    );
    expect(after.map((res) => res.body.status)).toEqual(Array(20).fill('paused'));
    expect(await Promise.all(before)).toEqual(Array(20).fill(200));
    await sut.http().post(`/batches/${mine[0].id}/cancel`).set(owner.auth).expect(202);
  });

  it('retries transient failures with backoff', async () => {
    const user = givenUser(sut);
    const created = await givenBatch(sut, user, { items: echoItems(5, { failTimes: 2 }) });
    const done = await waitForBatch(sut, user, created.id);
    expect(done).toMatchObject({ status: 'completed', succeededCount: 5 });
    const items = await sut.http().get(`/batches/${created.id}/items`).set(user.auth).expect(200);
    expect(items.body.data.every((i: { attempts: number }) => i.attempts === 3)).toBe(true);
  });

  it('serves one of the caller’s papers with its full-text fields (404 for anyone else’s)', async () => {
    const user = givenUser(sut);
    const created = await givenBatch(sut, user, {
      operation: 'papers.import',
      items: [{ title: 'One paper', doi: '10.1000/one-paper' }],
    });
    await waitForBatch(sut, user, created.id);
    const list = await sut.http().get('/papers').set(user.auth).expect(200);
    expect(list.body.data[0]).toMatchObject({
      title: 'One paper',
      fullTextStatus: 'none',
      fullTextWords: null,
    });
    expect(list.body.data[0]).not.toHaveProperty('fullText');
    const id = list.body.data[0].id as string;
    const paper = await sut.http().get(`/papers/${id}`).set(user.auth).expect(200);
    expect(paper.body).toMatchObject({
      id,
      doi: '10.1000/one-paper',
      fullText: null,
      fullTextStatus: 'none',
    });
    await sut.http().get(`/papers/${id}`).set(givenUser(sut).auth).expect(404);
    await sut.http().get('/papers/does-not-exist').set(user.auth).expect(404);
  });
});
