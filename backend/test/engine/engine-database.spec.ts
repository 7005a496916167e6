import { givenBatch, givenBatchFeatureOn, givenUser } from '../support/factories';
import { givenApp, TestApp } from '../support/test-app';
import { ItemStatus } from '../../src/modules/batch/batch-status';
import { BatchRepository } from '../../src/modules/batch/batch.repository';
import { ChunkRepository } from '../../src/modules/batch/chunk.repository';
import { OperationLimitsRepository } from '../../src/modules/batch/operation-limits.repository';
import { createEngineDatabase, OwnedEngineDatabase } from '../../src/modules/shared/database/engine-database';

/** The engine's own connection (what a monolith uses), on whichever back end the run tests. */
describe(`${createEngineDatabase.name} (${process.env.TEST_BACKEND ?? 'sqlite'})`, () => {
  let app: TestApp;
  let db: OwnedEngineDatabase;
  let sut: ChunkRepository;
  let batches: BatchRepository;

  beforeAll(async () => {
    app = await givenApp({ BATCH_WORKERS: '0' });
    await givenBatchFeatureOn(app);
    db = createEngineDatabase(app.db.url);
    batches = new BatchRepository(db, app.prisma);
    sut = new ChunkRepository(db, batches, new OperationLimitsRepository(db));
  });
  afterAll(async () => {
    await db.close();
    await app.close();
  });

  it('runs the hot path on its own connection: claim, record under the lease, finish', async () => {
    const user = givenUser(app);
    const batch = await givenBatch(app, user, {
      items: [{ n: 1 }, { n: 2 }, { n: 3 }],
      options: { chunkSize: 3 },
    });
    const now = Date.now();
    const claim = await sut.claimChunk({
      workerId: 'own-connection',
      leaseToken: 'lease-1',
      now,
      leaseMs: 30_000,
      defaultLimit: 100,
    });
    expect(claim?.items.map((i) => i.seq)).toEqual([0, 1, 2]);
    expect(claim?.batch.createdAt).toBeInstanceOf(Date);
    const recorded = await batches.transaction(async (tx) => {
      const outcome = await sut.recordOutcomes(
        tx,
        batch.key,
        'lease-1',
        claim!.items.map((i) => ({ seq: i.seq, status: ItemStatus.Success, result: { seen: i.seq } })),
        now + 10,
      );
      return { outcome, finished: await batches.finishIfSettled(tx, batch.key, now + 10) };
    });
    expect(recorded.outcome.written).toBe(3);
    expect(recorded.finished).toMatchObject({ status: 'completed', succeededCount: 3 });
    // What the service reads through the host's Prisma client agrees.
    const res = await app.http().get(`/batches/${batch.id}`).set(user.auth).expect(200);
    expect(res.body).toMatchObject({
      status: 'completed',
      processedCount: 3,
      finishedAt: recorded.finished!.finishedAt!.toISOString(),
    });
  });

  it('rolls a transaction back when its function throws', async () => {
    const user = givenUser(app);
    const batch = await givenBatch(app, user, { items: [{ n: 1 }] });
    await expect(
      db.transaction(async (tx) => {
        await tx.$executeRawUnsafe(`UPDATE "BatchOperation" SET "failedCount" = 99 WHERE "id" = ?`, batch.id);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const [row] = await db.query<{ failedCount: number | bigint }[]>(
      `SELECT "failedCount" FROM "BatchOperation" WHERE "id" = ?`,
      batch.id,
    );
    expect(Number(row.failedCount)).toBe(0);
  });
});
