import { ManualClock } from '../../src/modules/shared/clock';
import {
  echoItems,
  givenBatch,
  givenBatchFeatureOn,
  givenUser,
  TestUser,
  waitForBatch,
} from '../support/factories';
import { givenApp, TestApp } from '../support/test-app';

describe('Batch control (e2e)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await givenApp({ BATCH_RETRY_BASE_MS: '10', RATE_LIMIT_BATCH_OPERATIONS: '1000/3600' });
    await givenBatchFeatureOn(sut);
  });
  afterAll(() => sut.close());

  const itemsOf = async (user: TestUser, id: string, query = '') =>
    (await sut.http().get(`/batches/${id}/items?limit=100${query}`).set(user.auth).expect(200)).body
      .data as Record<string, any>[];

  it('fails failPermanently items once, never retried, and ends completed_with_errors', async () => {
    const user = givenUser(sut);
    const items = echoItems(10);
    items[4] = { failPermanently: true };
    const batch = await givenBatch(sut, user, { items });
    const done = await waitForBatch(sut, user, batch.id);
    expect(done).toMatchObject({
      status: 'completed_with_errors',
      succeededCount: 9,
      failedCount: 1,
      processedCount: 10,
    });
    const [failed] = await itemsOf(user, batch.id, '&status=failed');
    expect(failed).toMatchObject({ seq: 4, attempts: 1, error: 'failPermanently was set', status: 'failed' });
  });

  it('gives up after maxAttempts, keeping the last error', async () => {
    const user = givenUser(sut);
    const batch = await givenBatch(sut, user, {
      items: echoItems(3, { failTimes: 5 }),
      options: { maxAttempts: 2 },
    });
    const done = await waitForBatch(sut, user, batch.id);
    expect(done).toMatchObject({ status: 'completed_with_errors', failedCount: 3 });
    for (const item of await itemsOf(user, batch.id))
      expect(item).toMatchObject({ attempts: 2, error: 'transient failure 2 of 5' });
  });

  it('with allowFailures false, the first permanent failure cancels the rest and the batch ends failed', async () => {
    const user = givenUser(sut);
    const items = echoItems(40, { delayMs: 2 });
    items[0] = { failPermanently: true };
    const batch = await givenBatch(sut, user, { items, options: { allowFailures: false, chunkSize: 5 } });
    const done = await waitForBatch(sut, user, batch.id);
    expect(done.status).toBe('failed');
    expect(done.failedCount).toBe(1);
    expect(done.succeededCount + done.failedCount + done.cancelledCount).toBe(40);
    expect(done.cancelledCount).toBeGreaterThan(0);
  });

  it('pauses, resumes and cancels, moving items and counters exactly', async () => {
    const user = givenUser(sut);
    const batch = await givenBatch(sut, user, {
      items: echoItems(200, { delayMs: 5 }),
      options: { chunkSize: 10 },
    });
    await waitForBatch(sut, user, batch.id, (b) => b.processedCount > 0);
    const paused = await sut.http().post(`/batches/${batch.id}/pause`).set(user.auth).expect(202);
    expect(paused.body.status).toBe('paused');
    await sut.http().post(`/batches/${batch.id}/pause`).set(user.auth).expect(409);
    // The chunk in flight finishes; then nothing moves while paused.
    await new Promise((r) => setTimeout(r, 300));
    const settled = (await sut.http().get(`/batches/${batch.id}`).set(user.auth)).body;
    await new Promise((r) => setTimeout(r, 300));
    const still = (await sut.http().get(`/batches/${batch.id}`).set(user.auth)).body;
    expect(still.processedCount).toBe(settled.processedCount);
    expect(still.processedCount).toBeLessThan(200);

    const resumed = await sut.http().post(`/batches/${batch.id}/resume`).set(user.auth).expect(202);
    expect(resumed.body.status).toBe('processing');
    await sut.http().post(`/batches/${batch.id}/resume`).set(user.auth).expect(409);
    await waitForBatch(sut, user, batch.id, (b) => b.processedCount > still.processedCount);
    const early = await sut.http().post(`/batches/${batch.id}/retry`).set(user.auth).send({}).expect(409);
    expect(early.body.message).toContain('only finished batches');

    const cancelled = await sut.http().post(`/batches/${batch.id}/cancel`).set(user.auth).expect(202);
    expect(cancelled.body.status).toBe('cancelled');
    const done = await waitForBatch(sut, user, batch.id);
    expect(done.status).toBe('cancelled');
    expect(done.succeededCount + done.cancelledCount).toBe(200);
    expect(done.cancelledCount).toBeGreaterThan(0);
    const counts = await sut.prisma.batchJobItem.groupBy({
      by: ['status'],
      where: { batch: { id: batch.id } },
      _count: true,
    });
    const byStatus = Object.fromEntries(counts.map((c) => [c.status, c._count]));
    expect(byStatus).toEqual({ success: done.succeededCount, cancelled: done.cancelledCount });
    const again = await sut.http().post(`/batches/${batch.id}/cancel`).set(user.auth).expect(409);
    expect(again.body.code).toBe('INVALID_STATE');
  });

  it('retries failed items (all, or chosen ids) with attempts reset', async () => {
    const user = givenUser(sut);
    const items = echoItems(6);
    items[1] = { failPermanently: true };
    items[2] = { failPermanently: true };
    const batch = await givenBatch(sut, user, { items });
    await waitForBatch(sut, user, batch.id);
    const failed = await itemsOf(user, batch.id, '&status=failed');
    expect(failed).toHaveLength(2);

    const one = await sut
      .http()
      .post(`/batches/${batch.id}/retry`)
      .set(user.auth)
      .send({ itemIds: [failed[0].id] })
      .expect(202);
    expect(one.body).toMatchObject({
      status: 'processing',
      failedCount: 1,
      succeededCount: 4,
      processedCount: 5,
      finishedAt: null,
    });
    const done = await waitForBatch(sut, user, batch.id);
    // The payload still says failPermanently, so it fails again after a fresh first attempt.
    expect(done).toMatchObject({ status: 'completed_with_errors', failedCount: 2 });
    const retried = (await itemsOf(user, batch.id)).find((i) => i.id === failed[0].id);
    expect(retried).toMatchObject({ attempts: 1, status: 'failed' });

    await sut
      .http()
      .post(`/batches/${batch.id}/retry`)
      .set(user.auth)
      .send({ itemIds: ['no-such-item'] })
      .expect(409);
    await sut.http().post(`/batches/${batch.id}/retry`).set(user.auth).send({ itemIds: 'x' }).expect(400);
  });

  it('refuses retry on a batch with nothing failed, and control on someone else’s batch', async () => {
    const user = givenUser(sut);
    const other = givenUser(sut);
    const batch = await givenBatch(sut, user, { items: echoItems(3) });
    await waitForBatch(sut, user, batch.id);
    const res = await sut.http().post(`/batches/${batch.id}/retry`).set(user.auth).send({}).expect(409);
    expect(res.body.code).toBe('INVALID_STATE');
    for (const action of ['cancel', 'pause', 'resume', 'retry']) {
      const denied = await sut
        .http()
        .post(`/batches/${batch.id}/${action}`)
        .set(other.auth)
        .send({})
        .expect(404);
      expect(denied.body.code).toBe('NOT_FOUND');
    }
    await sut.http().get(`/batches/${batch.id}`).set(other.auth).expect(404);
    await sut.http().get(`/batches/${batch.id}/items`).set(other.auth).expect(404);
    const admin = givenUser(sut, { admin: true });
    await sut.http().get(`/batches/${batch.id}`).set(admin.auth).expect(200);
  });

  it('lists the caller’s batches newest first with a cursor', async () => {
    const user = givenUser(sut);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await givenBatch(sut, user, { items: echoItems(1) })).id);
    const first = await sut.http().get('/batches?limit=2').set(user.auth).expect(200);
    const second = await sut
      .http()
      .get(`/batches?limit=2&cursor=${first.body.nextCursor}`)
      .set(user.auth)
      .expect(200);
    const third = await sut
      .http()
      .get(`/batches?limit=2&cursor=${second.body.nextCursor}`)
      .set(user.auth)
      .expect(200);
    const seen = [...first.body.data, ...second.body.data, ...third.body.data].map(
      (b: { id: string }) => b.id,
    );
    expect(seen).toEqual([...ids].reverse());
    expect(third.body.nextCursor).toBeNull();
    const admin = givenUser(sut, { admin: true });
    const adminView = await sut
      .http()
      .get(`/batches?userId=${user.userId}&limit=100`)
      .set(admin.auth)
      .expect(200);
    expect(adminView.body.data).toHaveLength(5);
    await sut.http().get(`/batches?userId=${admin.userId}`).set(user.auth).expect(403);
  });
});

describe('Retry backoff (injected clock)', () => {
  it('schedules attempt n+1 at base × 2^(n-1) (±20 % jitter) and not before', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 28));
    const sut = await givenApp({ BATCH_RETRY_BASE_MS: '2000' }, undefined, { clock });
    try {
      await givenBatchFeatureOn(sut);
      const user = givenUser(sut);
      const batch = await givenBatch(sut, user, { items: [{ failTimes: 2 }] });
      const item = async () =>
        sut.prisma.batchJobItem.findFirstOrThrow({ where: { batch: { id: batch.id } } });
      const waitFor = async (attempts: number) => {
        for (let i = 0; i < 400; i++) {
          const row = await item();
          if (row.attempts === attempts && row.status !== 'processing') return row;
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error('worker did not reach the attempt');
      };
      const first = await waitFor(1);
      const delay1 = Number(first.nextAttemptAt) - clock.now();
      expect(first.status).toBe('queued');
      expect(delay1).toBeGreaterThanOrEqual(1600);
      expect(delay1).toBeLessThanOrEqual(2400);

      clock.advance(delay1 - 1);
      await new Promise((r) => setTimeout(r, 150));
      expect((await item()).attempts).toBe(1);

      clock.advance(1);
      const second = await waitFor(2);
      const delay2 = Number(second.nextAttemptAt) - clock.now();
      expect(delay2).toBeGreaterThanOrEqual(3200);
      expect(delay2).toBeLessThanOrEqual(4800);

      clock.advance(delay2);
      const done = await waitForBatch(sut, user, batch.id);
      expect(done).toMatchObject({ status: 'completed', succeededCount: 1 });
      expect((await item()).attempts).toBe(3);
    } finally {
      await sut.close();
    }
  });
});
