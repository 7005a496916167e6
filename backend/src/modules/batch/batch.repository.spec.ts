import { ItemStatus } from './batch-status';
import { BatchRepository } from './batch.repository';
import { OperationLimitsRepository } from './operation-limits.repository';
import { givenBatch, givenBatchFeatureOn, givenUser, paperItems } from '../../../test/support/factories';
import { givenApp, TestApp } from '../../../test/support/test-app';

describe(`${BatchRepository.name} lease fencing`, () => {
  let app: TestApp;
  let sut: BatchRepository;

  beforeAll(async () => {
    // No workers: the test plays two workers by hand.
    app = await givenApp({ BATCH_WORKERS: '0' });
    sut = app.app.get(BatchRepository);
    await givenBatchFeatureOn(app);
  });
  afterAll(() => app.close());

  it('a worker that stalled past its lease cannot overwrite the outcome of the worker that reclaimed its items', async () => {
    const user = givenUser(app);
    const batch = await givenBatch(app, user, { items: [{ n: 1 }, { n: 2 }], options: { chunkSize: 2 } });
    const t0 = Date.now();
    const stalled = await sut.claimChunk('stalled', 'token-old', t0, 1000, 100);
    expect(stalled?.items).toHaveLength(2);
    expect(await sut.claimChunk('other', 'token-early', t0 + 500, 1000, 100)).toBeNull();

    const reclaimed = await sut.claimChunk('fresh', 'token-new', t0 + 1001, 1000, 100);
    expect(reclaimed?.items.map((i) => i.id)).toEqual(stalled?.items.map((i) => i.id));
    expect(reclaimed?.items.every((i) => i.attempts === 2)).toBe(true);

    const fresh = await sut.transaction((tx) =>
      sut.recordOutcomes(
        tx,
        batch.id,
        'token-new',
        reclaimed!.items.map((i) => ({ id: i.id, status: ItemStatus.Success, result: { by: 'fresh' } })),
        t0 + 1100,
      ),
    );
    expect(fresh.written).toBe(2);
    const late = await sut.transaction((tx) =>
      sut.recordOutcomes(
        tx,
        batch.id,
        'token-old',
        stalled!.items.map((i) => ({ id: i.id, status: ItemStatus.Failed, error: 'late' })),
        t0 + 1200,
      ),
    );
    expect(late.written).toBe(0);
    expect(late.batch).toMatchObject({ succeededCount: 2, failedCount: 0, processedCount: 2 });
    const rows = await app.prisma.batchJobItem.findMany({ where: { batchId: batch.id } });
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
    await sut.claimChunk('stalled', 'tx-old', t0, 1000, 100);
    await sut.claimChunk('fresh', 'tx-new', t0 + 2000, 1000, 100);
    const held = await sut.transaction((tx) => sut.heldItemIds(tx, batch.id, 'tx-old'));
    expect(held.size).toBe(0);
    expect((await sut.transaction((tx) => sut.heldItemIds(tx, batch.id, 'tx-new'))).size).toBe(3);
    expect(batch.id).toBeDefined();
  });
});

describe(`${OperationLimitsRepository.name} rate`, () => {
  let app: TestApp;
  let sut: OperationLimitsRepository;
  let repository: BatchRepository;

  beforeAll(async () => {
    app = await givenApp({ BATCH_WORKERS: '0' });
    sut = app.app.get(OperationLimitsRepository);
    repository = app.app.get(BatchRepository);
  });
  afterAll(() => app.close());

  /** Leases what the limits allow at `now`, counts them as started, and gives the slots back. */
  async function start(operation: string, now: number, wanted: number): Promise<number> {
    const limits = { concurrency: 10, rate: { count: 4, windowMs: 2000 } };
    const holder = `h-${now}-${wanted}`;
    const slots = await repository.transaction(async (tx) => {
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
});
