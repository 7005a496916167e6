import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  echoItems,
  givenBatch,
  givenBatchFeatureOn,
  givenUser,
  paperItems,
  waitForBatch,
} from '../support/factories';
import { givenApp, TestApp } from '../support/test-app';
import { until } from '../support/wait';

/** The first number `pattern` captures in the app's /metrics (0 when it is not there). */
async function metricOf(app: TestApp, pattern: RegExp): Promise<number> {
  const text = (await app.http().get('/metrics').expect(200)).text;
  return Number(pattern.exec(text)?.[1] ?? 0);
}

/** What the operator page reads beside the contract's routes: filters, stored throughput, failure groups, operations. */
describe('Batch insights: filters, throughput history, failure groups (e2e)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await givenApp({ RATE_LIMIT_BATCH_OPERATIONS: '1000/3600', BATCH_RETRY_BASE_MS: '10' });
    await givenBatchFeatureOn(sut);
  });
  afterAll(() => sut.close());

  it('filters the list by operation and by a text in the id or the metadata, any case, paged', async () => {
    const user = givenUser(sut);
    const tagged = await givenBatch(sut, user, { items: echoItems(1), metadata: { source: 'Upload-42%_x' } });
    const other = await givenBatch(sut, user, { items: echoItems(1), metadata: { source: 'elsewhere' } });
    const imported = await givenBatch(sut, user, {
      operation: 'papers.import',
      items: [{ title: 'A paper', doi: '10.1000/a' }],
    });
    const list = async (query: string) =>
      (await sut.http().get(`/batches?${query}`).set(user.auth).expect(200)).body;
    expect((await list('q=upload-42%25_')).data.map((b: { id: string }) => b.id)).toEqual([tagged.id]);
    // LIKE's wildcards are plain text: '%' alone matches only a metadata holding '%'.
    expect((await list('q=%25')).data.map((b: { id: string }) => b.id)).toEqual([tagged.id]);
    expect((await list(`q=${other.id.slice(4, 12).toUpperCase()}`)).data[0].id).toBe(other.id);
    const byOperation = await list('operation=papers.import');
    expect(byOperation.data.map((b: { id: string }) => b.id)).toEqual([imported.id]);
    const first = await list('operation=diagnostics.echo&limit=1');
    expect(first.data[0].id).toBe(other.id);
    const second = await list(`operation=diagnostics.echo&limit=1&cursor=${first.nextCursor}`);
    expect(second.data[0].id).toBe(tagged.id);
    const bad = await sut.http().get('/batches?q=').set(user.auth).expect(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    // Another user's batches are never found by text.
    const stranger = givenUser(sut);
    expect((await sut.http().get('/batches?q=upload').set(stranger.auth).expect(200)).body.data).toEqual([]);
  });

  it('keeps throughput history in the items: buckets by outcome that add up, after the batch finished', async () => {
    const user = givenUser(sut);
    const items = echoItems(30, { delayMs: 20 });
    items[3] = { failPermanently: true };
    items[7] = { failPermanently: true };
    const batch = await givenBatch(sut, user, { items, options: { chunkSize: 5 } });
    await waitForBatch(sut, user, batch.id);
    const { body } = await sut
      .http()
      .get(`/batches/${batch.id}/throughput?buckets=20`)
      .set(user.auth)
      .expect(200);
    expect(body.bucketMs).toBeGreaterThanOrEqual(100);
    expect(body.bucketMs % 100).toBe(0);
    expect(body.buckets.length).toBeGreaterThan(0);
    expect(body.buckets.length).toBeLessThanOrEqual(20);
    const sum = (field: 'succeeded' | 'failed' | 'cancelled') =>
      body.buckets.reduce((n: number, b: Record<string, number>) => n + b[field], 0);
    expect([sum('succeeded'), sum('failed'), sum('cancelled')]).toEqual([28, 2, 0]);
    expect(Date.parse(body.buckets[0].at)).toBe(Date.parse(body.from));
    // Read again after a retry (the finished batch's history is cached by its event number): not the old one.
    const again = (await sut.http().get(`/batches/${batch.id}/throughput?buckets=20`).set(user.auth)).body;
    expect(again).toEqual(body);
    await sut.http().post(`/batches/${batch.id}/retry`).set(user.auth).send({}).expect(202);
    const retried = await waitForBatch(sut, user, batch.id);
    const after = (await sut.http().get(`/batches/${batch.id}/throughput?buckets=20`).set(user.auth)).body;
    expect(Date.parse(after.to)).toBe(Date.parse(retried.finishedAt));
    expect(Date.parse(after.to)).toBeGreaterThan(Date.parse(body.to));
    await sut.http().get(`/batches/${batch.id}/throughput?buckets=0`).set(user.auth).expect(400);
    await sut.http().get(`/batches/${batch.id}/throughput`).set(givenUser(sut).auth).expect(404);
  });

  it('groups failures by error and category, and retries one group alone', async () => {
    const user = givenUser(sut);
    const items = echoItems(12);
    for (const seq of [1, 4, 9]) items[seq] = { failPermanently: true };
    items[6] = { delayMs: 'soon' }; // fails its schema: a group of its own
    const batch = await givenBatch(sut, user, { items });
    await waitForBatch(sut, user, batch.id);
    const groups = (await sut.http().get(`/batches/${batch.id}/failures`).set(user.auth).expect(200)).body
      .data;
    expect(groups).toHaveLength(2);
    expect(groups[0]).toMatchObject({
      error: 'failPermanently was set',
      count: 3,
      firstItemId: `${batch.id}.0000001`,
    });
    expect(groups[1]).toMatchObject({ errorCategory: 'invalid_item', count: 1, retryable: false });
    const retried = await sut
      .http()
      .post(`/batches/${batch.id}/retry`)
      .set(user.auth)
      .send({ group: { error: groups[1].error, errorCategory: groups[1].errorCategory } })
      .expect(202);
    expect(retried.body.failedCount).toBe(3);
    await waitForBatch(sut, user, batch.id);
    const after = (await sut.http().get(`/batches/${batch.id}/failures`).set(user.auth).expect(200)).body
      .data;
    // The invalid item failed again (same group); the three others were never touched.
    expect(after.map((g: { count: number }) => g.count)).toEqual([3, 1]);
    const items6 = (await sut.http().get(`/batches/${batch.id}/items?status=failed`).set(user.auth)).body
      .data;
    expect(items6.find((i: { seq: number }) => i.seq === 6).attempts).toBe(1);
    const none = await sut
      .http()
      .post(`/batches/${batch.id}/retry`)
      .set(user.auth)
      .send({ group: { error: 'no such error', errorCategory: null } })
      .expect(409);
    expect(none.body.code).toBe('INVALID_STATE');
    const bad = await sut
      .http()
      .post(`/batches/${batch.id}/retry`)
      .set(user.auth)
      .send({ group: { error: 1 } });
    expect(bad.status).toBe(400);
  });

  it('lists the operations with the JSON Schema of their items', async () => {
    const user = givenUser(sut);
    const { body } = await sut.http().get('/batches/operations').set(user.auth).expect(200);
    const names = body.data.map((o: { name: string }) => o.name);
    expect(names).toEqual(
      expect.arrayContaining(['diagnostics.echo', 'papers.import', 'papers.fetch-fulltext']),
    );
    const papers = body.data.find((o: { name: string }) => o.name === 'papers.import');
    expect(papers.itemSchema.required).toContain('title');
    expect(Object.keys(papers.itemSchema.properties)).toEqual(expect.arrayContaining(['title', 'doi']));
  });

  it('cuts default-size chunks of a slow operation so counts move with items, not per 100-item chunk', async () => {
    // A process of its own: the pace is learnt per operation and process, and the other tests ran fast echoes.
    const fresh = await givenApp({ RATE_LIMIT_BATCH_OPERATIONS: '1000/3600' });
    await givenBatchFeatureOn(fresh);
    const user = givenUser(fresh);
    // No chunkSize of its own: the default (100) applies, cut to the operation's pace.
    // 60 items: with PostgreSQL's three loops the chunks of a round commit close together,
    // so it takes several rounds (8 items per chunk and loop at this pace) to show the steps.
    const batch = await givenBatch(fresh, user, { items: echoItems(60, { delayMs: 60 }) });
    const seen = new Set<number>();
    await until('the batch to finish', async () => {
      const b = (await fresh.http().get(`/batches/${batch.id}`).set(user.auth)).body;
      seen.add(b.processedCount);
      return b.processedCount === 60;
    }).finally(() => fresh.close());
    // With one 100-item chunk the count would jump 0 → 60; paced chunks record every ~0.5 s.
    expect([...seen].filter((n) => n > 0 && n < 60).length).toBeGreaterThanOrEqual(2);
  });

  it('leases a fast operation’s default-size chunks up to 500 items and hands them over 100 per call', async () => {
    // A process of its own: the pace (how many items a chunk leases) is learnt per operation and process.
    const fresh = await givenApp({ RATE_LIMIT_BATCH_OPERATIONS: '1000/3600' });
    const calls = path.join(os.tmpdir(), `echo-calls-${process.pid}-${Date.now()}.log`);
    process.env.ECHO_INVOCATION_LOG = calls;
    try {
      await givenBatchFeatureOn(fresh);
      const user = givenUser(fresh);
      const chunks = () =>
        metricOf(fresh, /^batch_chunk_duration_seconds_count\{operation="diagnostics\.echo"\} (\d+)$/m);
      // No options: the default chunk size (100).
      const batch = await givenBatch(fresh, user, { items: echoItems(1_200) });
      const done = await waitForBatch(fresh, user, batch.id);
      expect(done).toMatchObject({ status: 'completed', succeededCount: 1_200, options: { chunkSize: 100 } });
      const lines = fs.readFileSync(calls, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(1_200);
      expect(new Set(lines.map((l) => l.split(' ')[0])).size).toBe(1_200);
      // The operation never got more than the chunk size at once…
      expect(Math.max(...lines.map((l) => Number(l.split(' ')[2])))).toBe(100);
      // …while the chunks (claimed, recorded and committed once each) were larger: 100-item ones would be 12 at least.
      const leased = await chunks();
      expect(leased).toBeGreaterThan(0);
      expect(leased).toBeLessThan(12);

      // A size the batch asked for is kept for the lease too.
      const asked = await givenBatch(fresh, user, { items: echoItems(120), options: { chunkSize: 10 } });
      expect(await waitForBatch(fresh, user, asked.id)).toMatchObject({ succeededCount: 120 });
      expect((await chunks()) - leased).toBeGreaterThanOrEqual(12);
    } finally {
      delete process.env.ECHO_INVOCATION_LOG;
      await fresh.close();
      fs.rmSync(calls, { force: true });
    }
  });

  it('runs default-size chunks of papers.import as single calls of up to 500 items: two imports of the same papers in opposite orders run together without a deadlock', async () => {
    // Both batches are stored by a process without workers, so that the next one's loops find them
    // together; a process of its own also learns the pace afresh and counts metrics from zero.
    const store = await givenApp({ BATCH_WORKERS: '0', RATE_LIMIT_BATCH_OPERATIONS: '1000/3600' });
    let fresh: TestApp | null = null;
    try {
      await givenBatchFeatureOn(store);
      const user = givenUser(store);
      const papers = paperItems(1_500, 'shared');
      // No options. The second batch holds the same DOIs, each 500 of them backwards: chunks of
      // both batches over the same papers run at the same time. A transactional chunk is one call
      // (one upsert in DOI order); cut into calls of 100, each transaction would lock the shared
      // papers in runs of opposite orders (PostgreSQL chose a deadlock victim in each of 3 runs).
      const backwards = [0, 500, 1_000].flatMap((from) => papers.slice(from, from + 500).reverse());
      const up = await givenBatch(store, user, { operation: 'papers.import', items: papers });
      const down = await givenBatch(store, user, { operation: 'papers.import', items: backwards });
      await store.app.close();
      fresh = await givenApp({ RATE_LIMIT_BATCH_OPERATIONS: '1000/3600' }, store.db);
      const sut = fresh;
      for (const batch of [up, down])
        expect(await waitForBatch(sut, user, batch.id)).toMatchObject({
          status: 'completed',
          succeededCount: 1_500,
          options: { chunkSize: 100 },
        });
      // Chunks of 100 would be 30 at least; none was a deadlock victim (nor waited for a lock).
      const chunks = await metricOf(
        sut,
        /^batch_chunk_duration_seconds_count\{operation="papers\.import"\} (\d+)$/m,
      );
      expect(chunks).toBeGreaterThan(0);
      expect(chunks).toBeLessThan(30);
      expect(await metricOf(sut, /^batch_transaction_retries_total\{failure="busy"\} (\d+)$/m)).toBe(0);
      // One paper per DOI, and every item's result names the paper of its own DOI.
      const ids = new Map(
        (await sut.prisma.paper.findMany({ where: { userId: user.userId } })).map((p) => [p.doi, p.id]),
      );
      expect(ids.size).toBe(1_500);
      for (const batch of [up, down]) {
        let cursor: string | null = null;
        let seen = 0;
        do {
          const page: {
            data: { payload: { doi: string }; result: { paperId: string } }[];
            nextCursor: string | null;
          } = (
            await sut
              .http()
              .get(`/batches/${batch.id}/items?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
              .set(user.auth)
              .expect(200)
          ).body;
          for (const item of page.data) expect(item.result.paperId).toBe(ids.get(item.payload.doi));
          seen += page.data.length;
          cursor = page.nextCursor;
        } while (cursor);
        expect(seen).toBe(1_500);
      }
    } finally {
      await (fresh ?? store).close();
    }
  });

  it('lets the API go first without stopping batches: a batch completes while clients read without pause', async () => {
    // Loops beyond the first step aside while requests are in flight (ApiPressure); the first never does.
    const busy = await givenApp({ BATCH_WORKERS: '3', RATE_LIMIT_BATCH_OPERATIONS: '1000/3600' });
    try {
      await givenBatchFeatureOn(busy);
      const user = givenUser(busy);
      const batch = await givenBatch(busy, user, { items: echoItems(300), options: { chunkSize: 10 } });
      let reading = true;
      let answered = 0;
      const reader = async () => {
        while (reading) {
          await busy.http().get(`/batches/${batch.id}`).set(user.auth).expect(200);
          answered += 1;
        }
      };
      const readers = Promise.all([reader(), reader(), reader(), reader()]);
      try {
        const done = await waitForBatch(busy, user, batch.id);
        expect(done).toMatchObject({ status: 'completed', succeededCount: 300 });
      } finally {
        reading = false;
        await readers;
      }
      expect(answered).toBeGreaterThan(0);
      // The extra loops did stand aside while the readers were answered.
      expect(await metricOf(busy, /^batch_engine_seconds_total\{phase="yielding"\} (\S+)$/m)).toBeGreaterThan(
        0,
      );
    } finally {
      await busy.close();
    }
  });
});
