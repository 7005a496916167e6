import { ItemStatus } from '../../src/modules/batch/batch-status';
import { BatchRepository } from '../../src/modules/batch/batch.repository';
import { ChunkRepository } from '../../src/modules/batch/chunk.repository';
import { OperationLimitsRepository } from '../../src/modules/batch/operation-limits.repository';
import { givenBatch, givenBatchFeatureOn, givenUser, paperItems } from '../support/factories';
import { givenApp, TestApp } from '../support/test-app';

/** An app with batches on and no workers: the tests play the workers by hand. */
async function givenIdleApp(): Promise<TestApp> {
  const app = await givenApp({ BATCH_WORKERS: '0' });
  await givenBatchFeatureOn(app);
  return app;
}

describe(`${ChunkRepository.name} lease fencing`, () => {
  let app: TestApp;
  let sut: ChunkRepository;
  let batches: BatchRepository;

  beforeAll(async () => {
    app = await givenIdleApp();
    sut = app.app.get(ChunkRepository);
    batches = app.app.get(BatchRepository);
  });
  afterAll(() => app.close());

  it('a chunk claimed inside a transaction that rolls back (a record transaction that failed) was never claimed', async () => {
    const user = givenUser(app);
    const batch = await givenBatch(app, user, { items: [{ n: 1 }, { n: 2 }], options: { chunkSize: 2 } });
    const claim = { workerId: 'ahead', now: Date.now(), leaseMs: 60_000, defaultLimit: 100 };
    const failed = batches.transaction(async (tx) => {
      const ahead = await sut.claimChunkIn(tx, { ...claim, leaseToken: 'token-ahead' });
      expect(ahead?.batch.id).toBe(batch.id);
      expect(ahead?.items).toHaveLength(2);
      throw new Error('the record failed');
    });
    await expect(failed).rejects.toThrow('the record failed');

    // Claimable again at once (no lease to wait for), at the same attempt.
    const again = await sut.claimChunk({ ...claim, leaseToken: 'token-again' });
    expect(again?.batch.id).toBe(batch.id);
    expect(again?.items.map((i) => [i.seq, i.attempts])).toEqual([
      [0, 1],
      [1, 1],
    ]);
    const fenced = await batches.transaction((tx) =>
      sut.recordOutcomes(tx, batch.key, 'token-ahead', [{ seq: 0, status: ItemStatus.Success }], claim.now),
    );
    expect(fenced.written).toBe(0);
    await batches.transaction((tx) =>
      sut.recordOutcomes(
        tx,
        batch.key,
        'token-again',
        again!.items.map((i) => ({ seq: i.seq, status: ItemStatus.Success })),
        claim.now,
      ),
    );
  });

  // SQLite runs one write transaction at a time, so no row can be held by another while a claim runs.
  (process.env.TEST_BACKEND === 'postgres' ? it : it.skip)(
    'a claim inside a record transaction passes over a batch whose row another transaction holds, instead of waiting',
    async () => {
      const user = givenUser(app);
      const batch = await givenBatch(app, user, { items: [{ n: 1 }], options: { chunkSize: 1 } });
      const claim = { workerId: 'ahead', now: Date.now(), leaseMs: 60_000, defaultLimit: 100 };
      let letGo!: () => void;
      const released = new Promise<void>((resolve) => (letGo = resolve));
      let holding!: () => void;
      const isHolding = new Promise<void>((resolve) => (holding = resolve));
      const holder = batches.transaction(async (tx) => {
        await tx.$queryRawUnsafe(`SELECT 1 FROM "BatchOperation" WHERE "key" = ? FOR UPDATE`, batch.key);
        holding();
        await released;
      });
      await isHolding;
      try {
        const ahead = batches.transaction((tx) =>
          sut.claimChunkIn(tx, { ...claim, leaseToken: 'token-skip', skipLockedBatches: true }),
        );
        const waited = new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5000));
        expect(await Promise.race([ahead, waited])).toBeNull();
      } finally {
        letGo();
        await holder;
      }
      const after = await sut.claimChunk({ ...claim, leaseToken: 'token-after' });
      expect(after?.batch.id).toBe(batch.id);
      await batches.transaction((tx) =>
        sut.recordOutcomes(tx, batch.key, 'token-after', [{ seq: 0, status: ItemStatus.Success }], claim.now),
      );
    },
  );

  it('a worker that stalled past its lease cannot overwrite the outcome of the worker that reclaimed its items', async () => {
    const user = givenUser(app);
    const batch = await givenBatch(app, user, { items: [{ n: 1 }, { n: 2 }], options: { chunkSize: 2 } });
    const t0 = Date.now();
    const stalled = await sut.claimChunk({
      workerId: 'stalled',
      leaseToken: 'token-old',
      now: t0,
      leaseMs: 1000,
      defaultLimit: 100,
    });
    expect(stalled?.items).toHaveLength(2);
    expect(
      await sut.claimChunk({
        workerId: 'other',
        leaseToken: 'token-early',
        now: t0 + 500,
        leaseMs: 1000,
        defaultLimit: 100,
      }),
    ).toBeNull();

    const reclaimed = await sut.claimChunk({
      workerId: 'fresh',
      leaseToken: 'token-new',
      now: t0 + 1001,
      leaseMs: 1000,
      defaultLimit: 100,
    });
    expect(reclaimed?.items.map((i) => i.id)).toEqual(stalled?.items.map((i) => i.id));
    expect(reclaimed?.items.every((i) => i.attempts === 2)).toBe(true);

    const fresh = await batches.transaction((tx) =>
      sut.recordOutcomes(
        tx,
        batch.key,
        'token-new',
        reclaimed!.items.map((i) => ({ seq: i.seq, status: ItemStatus.Success, result: { by: 'fresh' } })),
        t0 + 1100,
      ),
    );
    expect(fresh.written).toBe(2);
    const late = await batches.transaction((tx) =>
      sut.recordOutcomes(
        tx,
        batch.key,
        'token-old',
        stalled!.items.map((i) => ({ seq: i.seq, status: ItemStatus.Failed, error: 'late' })),
        t0 + 1200,
      ),
    );
    expect(late.written).toBe(0);
    expect(late.batch).toMatchObject({ succeededCount: 2, failedCount: 0, processedCount: 2 });
    const rows = await app.prisma.batchJobItem.findMany({ where: { batch: { id: batch.id } } });
    expect(rows.map((r) => [r.status, r.result])).toEqual([
      ['success', { by: 'fresh' }],
      ['success', { by: 'fresh' }],
    ]);
  });

  it('a stalled transactional worker sees none of its items as held, so it writes no effects', async () => {
    const user = givenUser(app);
    const batch = await givenBatch(app, user, {
      operation: 'papers.import',
      items: paperItems(3, 'fence'),
      options: { chunkSize: 3 },
    });
    const t0 = Date.now() + 10_000;
    await sut.claimChunk({
      workerId: 'stalled',
      leaseToken: 'tx-old',
      now: t0,
      leaseMs: 1000,
      defaultLimit: 100,
    });
    await sut.claimChunk({
      workerId: 'fresh',
      leaseToken: 'tx-new',
      now: t0 + 2000,
      leaseMs: 1000,
      defaultLimit: 100,
    });
    const held = await batches.transaction((tx) => sut.heldSeqs(tx, batch.key, 'tx-old'));
    expect(held.size).toBe(0);
    expect((await batches.transaction((tx) => sut.heldSeqs(tx, batch.key, 'tx-new'))).size).toBe(3);
    expect(batch.id).toBeDefined();
  });

  it('records a retry whose time is a fraction of a millisecond (an operation computed it), in whole ms', async () => {
    const user = givenUser(app);
    const batch = await givenBatch(app, user, { items: [{}], options: { chunkSize: 1 } });
    const t0 = Date.now() + 20_000;
    const claim = await sut.claimChunk({
      workerId: 'w',
      leaseToken: 'frac',
      now: t0,
      leaseMs: 60_000,
      defaultLimit: 1,
    });
    const recorded = await batches.transaction((tx) =>
      sut.recordOutcomes(
        tx,
        batch.key,
        'frac',
        [{ seq: claim!.items[0].seq, status: ItemStatus.Queued, next: t0 + 0.6 }],
        t0,
      ),
    );
    expect(recorded.written).toBe(1);
    const [item] = await app.prisma.batchJobItem.findMany({ where: { batch: { id: batch.id } } });
    expect(Number(item.nextAttemptAt)).toBe(t0 + 1);
  });
});

describe(`${OperationLimitsRepository.name} rate`, () => {
  let app: TestApp;
  let sut: OperationLimitsRepository;
  let batches: BatchRepository;

  beforeAll(async () => {
    app = await givenIdleApp();
    sut = app.app.get(OperationLimitsRepository);
    batches = app.app.get(BatchRepository);
  });
  afterAll(() => app.close());

  /** Leases what the limits allow at `now`, counts them as started, and gives the slots back. */
  async function start(operation: string, now: number, wanted: number): Promise<number> {
    const limits = { concurrency: 10, rate: { count: 4, windowMs: 2000 } };
    const holder = `h-${now}-${wanted}`;
    await sut.ensureSeeded(operation, limits.concurrency);
    const slots = await batches.transaction(async (tx) => {
      const taken = await sut.acquire(tx, operation, limits, holder, now, now + 1000, wanted);
      if (taken.length > 0) await sut.countStarts(tx, operation, limits.rate, now, taken.length);
      return taken;
    });
    await sut.release(holder);
    return slots.length;
  }

  it('is a sliding window: a window edge does not let twice the rate through', async () => {
    const operation = `test.rate-${Date.now()}`;
    const edge = Math.ceil(Date.now() / 2000) * 2000 + 20_000;
    expect(await start(operation, edge - 100, 10)).toBe(4);
    // A fixed window would allow 4 more here, 200 ms after the first 4.
    expect(await start(operation, edge + 100, 10)).toBe(0);
    expect(await start(operation, edge + 1899, 10)).toBe(0);
    expect(await start(operation, edge + 1900, 2)).toBe(2);
    expect(await start(operation, edge + 2500, 10)).toBe(2);
    expect(await start(operation, edge + 3899, 10)).toBe(0);
    expect(await start(operation, edge + 3900, 10)).toBe(2);
  });

  it('seeds slots outside any claim, so a claim that rolls back cannot lose them', async () => {
    const operation = `test.seed-${Date.now()}`;
    const limits = { concurrency: 3 };
    await sut.ensureSeeded(operation, limits.concurrency);
    // A claim transaction that takes every slot and then rolls back (a deadlock victim, say)...
    await expect(
      batches.transaction(async (tx) => {
        expect(await sut.acquire(tx, operation, limits, 'doomed', 1000, 2000, 3)).toHaveLength(3);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    // ...leaves the slots there and free for the next claim.
    const again = await batches.transaction((tx) =>
      sut.acquire(tx, operation, limits, 'next', 1000, 2000, 3),
    );
    expect(again).toEqual([0, 1, 2]);
  });
});

describe(`${ChunkRepository.name} range leases`, () => {
  let app: TestApp;
  let sut: ChunkRepository;
  let batches: BatchRepository;

  beforeAll(async () => {
    app = await givenIdleApp();
    sut = app.app.get(ChunkRepository);
    batches = app.app.get(BatchRepository);
  });
  afterAll(() => app.close());

  it('leases runs of due retries that never hold a queued item of someone else, and lists them as processing', async () => {
    const user = givenUser(app);
    const batch = await givenBatch(app, user, { items: [{}, {}, {}, {}, {}, {}], options: { chunkSize: 6 } });
    const t0 = Date.now();
    const first = await sut.claimChunk({
      workerId: 'w',
      leaseToken: 'first',
      now: t0,
      leaseMs: 60_000,
      defaultLimit: 100,
    });
    expect(first?.items.map((i) => i.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(first?.items.every((i) => i.attempts === 1)).toBe(true);
    const later = t0 + 10_000;
    await batches.transaction((tx) =>
      sut.recordOutcomes(
        tx,
        batch.key,
        'first',
        first!.items.map((i) =>
          i.seq === 1 || i.seq === 3
            ? { seq: i.seq, status: ItemStatus.Queued, error: 'later', next: later }
            : i.seq === 2 || i.seq === 4
              ? { seq: i.seq, status: ItemStatus.Queued, error: 'now', next: t0 }
              : { seq: i.seq, status: ItemStatus.Success, result: {} },
        ),
        t0,
      ),
    );
    // 1 and 3 are not due: each due retry is a range of its own, so no range holds them.
    const second = await sut.claimChunk({
      workerId: 'w',
      leaseToken: 'second',
      now: t0 + 1,
      leaseMs: 60_000,
      defaultLimit: 100,
    });
    expect(second?.items.map((i) => [i.seq, i.attempts])).toEqual([[2, 2]]);
    const third = await sut.claimChunk({
      workerId: 'w',
      leaseToken: 'third',
      now: t0 + 2,
      leaseMs: 60_000,
      defaultLimit: 100,
    });
    expect(third?.items.map((i) => i.seq)).toEqual([4]);
    expect(
      await sut.claimChunk({
        workerId: 'w',
        leaseToken: 'fourth',
        now: t0 + 3,
        leaseMs: 60_000,
        defaultLimit: 100,
      }),
    ).toBeNull();

    const listed = await batches.listItems({ batchKey: batch.key, limit: 10 });
    expect(listed.map((i) => [i.seq, i.status, i.attempts])).toEqual([
      [0, 'success', 1],
      [1, 'queued', 1],
      [2, 'processing', 2],
      [3, 'queued', 1],
      [4, 'processing', 2],
      [5, 'success', 1],
    ]);
    expect(
      (await batches.listItems({ batchKey: batch.key, status: 'processing', limit: 10 })).map((i) => i.seq),
    ).toEqual([2, 4]);
    expect(
      (await batches.listItems({ batchKey: batch.key, status: 'queued', limit: 10 })).map((i) => i.seq),
    ).toEqual([1, 3]);

    // Once due, 1 and 3 are claimed together; item 2 between them stays its own chunk's.
    const fifth = await sut.claimChunk({
      workerId: 'w',
      leaseToken: 'fifth',
      now: later,
      leaseMs: 60_000,
      defaultLimit: 100,
    });
    expect(fifth?.items.map((i) => i.seq)).toEqual([1, 3]);
  });
});
