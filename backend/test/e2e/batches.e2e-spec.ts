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

  it('imports papers, failing invalid items for good', async () => {
    const user = givenUser(sut);
    const items: Record<string, unknown>[] = paperItems(100, 'x');
    items[3] = { title: 'bad doi', doi: 'nope' };
    items[7] = { title: '   ' };
    items[9] = { title: 'year', year: 3000 };
    const created = await givenBatch(sut, user, { operation: 'papers.import', items });
    const done = await waitForBatch(sut, user, created.id);
    expect(done).toMatchObject({ status: 'completed_with_errors', succeededCount: 97, failedCount: 3 });
    const failed = await sut
      .http()
      .get(`/batches/${created.id}/items?status=failed`)
      .set(user.auth)
      .expect(200);
    expect(failed.body.data.map((i: { seq: number }) => i.seq)).toEqual([3, 7, 9]);
    expect(failed.body.data[0].error).toContain('doi must match');
    expect(failed.body.data[0].attempts).toBe(1);
    const papers = await sut.http().get('/papers?limit=5').set(user.auth).expect(200);
    expect(papers.body.total).toBe(97);
  });

  it('retries transient failures with backoff', async () => {
    const user = givenUser(sut);
    const created = await givenBatch(sut, user, { items: echoItems(5, { failTimes: 2 }) });
    const done = await waitForBatch(sut, user, created.id);
    expect(done).toMatchObject({ status: 'completed', succeededCount: 5 });
    const items = await sut.http().get(`/batches/${created.id}/items`).set(user.auth).expect(200);
    expect(items.body.data.every((i: { attempts: number }) => i.attempts === 3)).toBe(true);
  });
});
