import { databaseChecksum } from '../support/db-checksum';
import { echoItems, givenBatch, givenBatchFeatureOn, givenUser, waitForBatch } from '../support/factories';
import { connectedSocket } from '../support/sockets';
import { givenApp, TestApp } from '../support/test-app';
import { until } from '../support/wait';

/** POST /batches/:id/items (contract v3, "Appending items"), on SQLite and on PostgreSQL. */
describe('Appending items to a batch (e2e)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await givenApp({ MAX_BATCH_ITEMS: '200', RATE_LIMIT_BATCH_OPERATIONS: '1000/3600' });
    await givenBatchFeatureOn(sut);
  });
  afterAll(() => sut.close());

  const append = (auth: Record<string, string>, id: string, body: unknown) =>
    sut
      .http()
      .post(`/batches/${id}/items`)
      .set(auth)
      .send(body as object);

  it('adds items after the last position of a running batch; all of them are processed and counted', async () => {
    const user = givenUser(sut);
    const batch = await givenBatch(sut, user, {
      items: echoItems(40, { delayMs: 10 }),
      options: { chunkSize: 5 },
    });
    const added = Array.from({ length: 25 }, (_, i) => ({ appended: i }));
    const res = await append(user.auth, batch.id, { items: added }).expect(202);
    expect(res.body).toMatchObject({ id: batch.id, itemCount: 65 });
    expect(res.body.finishedAt).toBeNull();

    const done = await waitForBatch(sut, user, batch.id);
    expect(done).toMatchObject({
      status: 'completed',
      itemCount: 65,
      processedCount: 65,
      succeededCount: 65,
    });
    const page = await sut.http().get(`/batches/${batch.id}/items?limit=100`).set(user.auth).expect(200);
    const items = page.body.data as { id: string; seq: number; payload: unknown; result: unknown }[];
    expect(items.map((i) => i.seq)).toEqual(Array.from({ length: 65 }, (_, i) => i));
    expect(items[40]).toMatchObject({ id: `${batch.id}.0000040`, payload: { appended: 0 } });
    expect(items[64]).toMatchObject({ id: `${batch.id}.0000064`, payload: { appended: 24 } });
  });

  it('keeps positions contiguous and counts exact under concurrent appends, and tells sockets the new itemCount', async () => {
    const user = givenUser(sut);
    const socket = await connectedSocket(sut.baseUrl, user.token);
    const events: { name: string; itemCount: number; seq: number }[] = [];
    for (const name of ['batch-progress', 'batch-complete'])
      socket.on(name, (e: { itemCount: number; seq: number }) => events.push({ name, ...e }));
    try {
      const batch = await givenBatch(sut, user, {
        items: echoItems(30, { delayMs: 10 }),
        options: { chunkSize: 3 },
      });
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, k) =>
          append(user.auth, batch.id, { items: echoItems(10, { wave: k }) }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(6).fill(202));
      // Each answer saw its own items counted: six different counts, the last one 90.
      expect(new Set(answers.map((a) => a.body.itemCount)).size).toBe(6);
      expect(Math.max(...answers.map((a) => a.body.itemCount))).toBe(90);
      const done = await waitForBatch(sut, user, batch.id);
      expect(done).toMatchObject({
        status: 'completed',
        itemCount: 90,
        succeededCount: 90,
        processedCount: 90,
      });
      const rows = await sut.prisma.batchJobItem.findMany({
        where: { batch: { id: batch.id } },
        select: { seq: true, status: true },
        orderBy: { seq: 'asc' },
      });
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 90 }, (_, i) => i));
      expect(rows.every((r) => r.status === 'success')).toBe(true);
      await until('batch-complete', async () => events.some((e) => e.name === 'batch-complete'));
      const complete = events.find((e) => e.name === 'batch-complete');
      expect(complete?.itemCount).toBe(90);
      // Never a count going backwards.
      const counts = events.map((e) => e.itemCount);
      expect(counts).toEqual([...counts].sort((x, y) => x - y));
    } finally {
      socket.close();
    }
  });

  it('adds items to a paused batch, which processes them once resumed', async () => {
    const user = givenUser(sut);
    const batch = await givenBatch(sut, user, {
      items: echoItems(30, { delayMs: 20 }),
      options: { chunkSize: 2 },
    });
    await sut.http().post(`/batches/${batch.id}/pause`).set(user.auth).expect(202);
    await append(user.auth, batch.id, { items: echoItems(10) }).expect(202);
    await sut.http().post(`/batches/${batch.id}/resume`).set(user.auth).expect(202);
    expect(await waitForBatch(sut, user, batch.id)).toMatchObject({
      status: 'completed',
      itemCount: 40,
      succeededCount: 40,
    });
  });

  it('answers 409 INVALID_STATE once the batch has ended or was cancelled, and stores nothing', async () => {
    const user = givenUser(sut);
    const finished = await givenBatch(sut, user, { items: echoItems(3) });
    await waitForBatch(sut, user, finished.id);
    const ended = await append(user.auth, finished.id, { items: echoItems(2) }).expect(409);
    expect(ended.body).toMatchObject({ code: 'INVALID_STATE' });

    const running = await givenBatch(sut, user, {
      items: echoItems(50, { delayMs: 20 }),
      options: { chunkSize: 1 },
    });
    await sut.http().post(`/batches/${running.id}/cancel`).set(user.auth).expect(202);
    const cancelled = await append(user.auth, running.id, { items: echoItems(2) }).expect(409);
    expect(cancelled.body).toMatchObject({ code: 'INVALID_STATE' });

    for (const id of [finished.id, running.id]) {
      const after = await waitForBatch(sut, user, id);
      expect(after.itemCount).toBe(id === finished.id ? 3 : 50);
      expect(await sut.prisma.batchJobItem.count({ where: { batch: { id } } })).toBe(after.itemCount);
    }
  });

  it('keeps a batch open for keepOpenSeconds: an append after it ended reopens it, after the window it is 409', async () => {
    const user = givenUser(sut);
    const tooLong = await sut
      .http()
      .post('/batches')
      .set(user.auth)
      .send({ operation: 'diagnostics.echo', items: echoItems(1), options: { keepOpenSeconds: 86_401 } })
      .expect(400);
    expect(tooLong.body.details.errors).toEqual(['options.keepOpenSeconds must be at most 86400']);

    const open = await givenBatch(sut, user, { items: echoItems(3), options: { keepOpenSeconds: 600 } });
    expect(open.options).toMatchObject({ keepOpenSeconds: 600 });
    const first = await waitForBatch(sut, user, open.id);
    expect(first).toMatchObject({ status: 'completed', itemCount: 3 });
    const reopened = await append(user.auth, open.id, { items: echoItems(2, { late: true }) }).expect(202);
    expect(reopened.body).toMatchObject({ status: 'processing', itemCount: 5, finishedAt: null });
    expect(await waitForBatch(sut, user, open.id)).toMatchObject({
      status: 'completed',
      itemCount: 5,
      succeededCount: 5,
      processedCount: 5,
    });

    const brief = await givenBatch(sut, user, { items: echoItems(1), options: { keepOpenSeconds: 1 } });
    await waitForBatch(sut, user, brief.id);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const closed = await append(user.auth, brief.id, { items: echoItems(1) }).expect(409);
    expect(closed.body.code).toBe('INVALID_STATE');
  });

  it('refuses bad input with the contract error and changes nothing; another user gets 404', async () => {
    const user = givenUser(sut);
    const batch = await givenBatch(sut, user, {
      items: echoItems(2),
      options: { allowFailures: false },
    });
    await waitForBatch(sut, user, batch.id);
    const before = await databaseChecksum(sut.prisma);

    const empty = await append(user.auth, batch.id, { items: [] }).expect(400);
    expect(empty.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(JSON.stringify(empty.body.details)).toContain('must contain at least one item');
    const extra = await append(user.auth, batch.id, { items: [{}], operation: 'x' }).expect(400);
    expect(extra.body.code).toBe('VALIDATION_FAILED');
    const notObject = await append(user.auth, batch.id, { items: [{ n: 1 }, 7] }).expect(400);
    expect(notObject.body.details).toMatchObject({ invalidCount: 1, items: [{ index: 1 }] });
    // allowFailures: false checks the operation's schema too, as at creation.
    const badSchema = await append(user.auth, batch.id, { items: [{ delayMs: 'soon' }] }).expect(400);
    expect(badSchema.body.details).toMatchObject({ items: [{ index: 0 }] });
    const tooMany = await append(user.auth, batch.id, { items: echoItems(199) }).expect(413);
    expect(tooMany.body).toMatchObject({ code: 'BATCH_TOO_LARGE', details: { maxItems: 200, stored: 2 } });
    const stranger = givenUser(sut);
    await append(stranger.auth, batch.id, { items: echoItems(1) }).expect(404);
    await append(user.auth, 'no-such-batch', { items: echoItems(1) }).expect(404);

    expect(await databaseChecksum(sut.prisma)).toBe(before);
  });

  it('replays a repeated Idempotency-Key instead of adding the items twice', async () => {
    const user = givenUser(sut);
    const batch = await givenBatch(sut, user, {
      items: echoItems(20, { delayMs: 20 }),
      options: { chunkSize: 2 },
    });
    const keyed = { ...user.auth, 'Idempotency-Key': `append-${batch.id}` };
    const body = { items: echoItems(5, { again: true }) };
    const first = await append(keyed, batch.id, body).expect(202);
    expect(first.body.itemCount).toBe(25);
    const second = await append(keyed, batch.id, body).expect(200);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body.itemCount).toBe(25);
    const reused = await append(keyed, batch.id, { items: echoItems(6) }).expect(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await waitForBatch(sut, user, batch.id)).toMatchObject({ itemCount: 25, succeededCount: 25 });
  });
});
