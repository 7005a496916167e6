import path from 'node:path';
import request from 'supertest';
import { echoItems, givenBatch, givenBatchFeatureOn, givenUser, waitForBatch } from '../support/factories';
import { enableBatchesOn, spawnServer, type ServerProcess } from '../support/server-process';
import { givenDatabase, TEST_BACKEND, type TempDatabase } from '../support/temp-database';
import { givenApp, type TestApp } from '../support/test-app';
import { devAuth, until } from '../support/wait';

describe('Processes that die (SIGKILL, or a host exiting without shutdown hooks), on real server processes', () => {
  let db: TempDatabase;
  let server: ServerProcess | null = null;

  beforeAll(async () => (db = await givenDatabase()));
  afterAll(async () => {
    await server?.crash();
    await db.remove();
  });

  const envWith = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: db.url,
    LOG_DIR: path.join(db.dir, 'logs'),
    BATCH_POLL_MS: '20',
    RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
    ...extra,
  });
  /** The batch once it has finished, read from the running server. */
  const finishedBatch = async (
    id: string,
    auth: Record<string, string>,
    what = 'the batch finished',
    timeoutMs?: number,
  ): Promise<Record<string, any>> => {
    let batch: Record<string, any> = {};
    await until(
      what,
      async () => {
        batch = (await request(server!.baseUrl).get(`/batches/${id}`).set(auth)).body;
        return batch.finishedAt !== null;
      },
      timeoutMs,
    );
    return batch;
  };
  /** Kills the running server, if any (SIGKILL), and starts a new one on the same database. */
  const restart = async (env: Record<string, string>): Promise<ServerProcess> => {
    await server?.crash();
    server = await spawnServer(env);
    return server;
  };

  it('fails an item whose process dies under it once its attempts are used up, and the batch finishes', async () => {
    const env = envWith({ BATCH_LEASE_MS: '1500' });
    const auth = devAuth('crash-loop-user');
    const first = await restart(env);
    await enableBatchesOn(first);
    const created = await request(first.baseUrl)
      .post('/batches')
      .set(auth)
      .send({
        operation: 'diagnostics.echo',
        items: [{ n: 0 }, { n: 1, delayMs: 10_000 }, { n: 2 }],
        options: { chunkSize: 1, maxAttempts: 2 },
      })
      .expect(202);
    const id = created.body.id as string;
    const middle = async () =>
      (await request(server!.baseUrl).get(`/batches/${id}/items`).set(auth).expect(200)).body.data[1] as {
        status: string;
        attempts: number;
        error: string | null;
        errorCategory: string | null;
      };
    // Kill the process every time the poison item is running a new attempt, as a crash-looping host would.
    let kills = 0;
    for (; kills < 5; kills++) {
      await until(
        `attempt ${kills + 1} running, or the item failed`,
        async () => {
          const item = await middle();
          return item.status === 'failed' || (item.status === 'processing' && item.attempts === kills + 1);
        },
        20_000,
      );
      if ((await middle()).status === 'failed') break;
      // Really running (it takes 10 s), not a claim about to record that its attempts are used up.
      await new Promise((r) => setTimeout(r, 500));
      const still = await middle();
      if (still.status === 'failed') break;
      expect(still).toMatchObject({ status: 'processing', attempts: kills + 1 });
      await restart(env);
    }
    expect(kills).toBe(2);
    expect(await middle()).toMatchObject({ status: 'failed', attempts: 2, errorCategory: 'interrupted' });
    expect((await middle()).error).toContain('stopped 2 times');
    const batch = await finishedBatch(id, auth);
    expect(batch).toMatchObject({
      status: 'completed_with_errors',
      processedCount: 3,
      succeededCount: 2,
      failedCount: 1,
    });
  });

  it('takes a dead process’s large chunk back a chunk’s size at a time: an item that kills its process takes at most one chunk of others with it', async () => {
    // One worker loop (PostgreSQL's default is 3): the items in live chunks are then one chunk's.
    const env = envWith({ BATCH_LEASE_MS: '1500', BATCH_WORKERS: '1' });
    const auth = devAuth('crash-lease-user');
    const first = await restart(env);
    await enableBatchesOn(first);
    // No chunkSize: the default (100), whose chunks of a fast operation lease up to 500 items.
    const items = echoItems(700).map((item, n) => (n === 300 ? { ...item, delayMs: 10_000 } : item));
    const created = await request(first.baseUrl)
      .post('/batches')
      .set(auth)
      .send({ operation: 'diagnostics.echo', items, options: { maxAttempts: 2 } })
      .expect(202);
    const id = created.body.id as string;
    /** The items in live chunks now (every page of them). */
    const processing = async () => {
      const seen: { seq: number; attempts: number }[] = [];
      let cursor: string | null = null;
      do {
        const page: { data: { seq: number; attempts: number }[]; nextCursor: string | null } = (
          await request(server!.baseUrl)
            .get(`/batches/${id}/items`)
            .query({ status: 'processing', limit: 100, ...(cursor ? { cursor } : {}) })
            .set(auth)
            .expect(200)
        ).body;
        seen.push(...page.data);
        cursor = page.nextCursor;
      } while (cursor);
      return seen;
    };
    const chunkSizes: number[] = [];
    for (let kills = 0; kills < 2; kills++) {
      let live: { seq: number; attempts: number }[] = [];
      await until(
        `the poison item running its attempt ${kills + 1}`,
        async () => {
          live = await processing();
          return live.some((item) => item.seq === 300 && item.attempts === kills + 1);
        },
        30_000,
      );
      chunkSizes.push(live.length);
      await new Promise((r) => setTimeout(r, 500));
      await restart(env);
    }
    // First a lease of the pace's size; after the crash, its items come back 100 at a time.
    expect(chunkSizes[0]).toBeGreaterThan(100);
    expect(chunkSizes[1]).toBeLessThanOrEqual(100);
    const batch = await finishedBatch(id, auth, 'the batch finished', 30_000);
    // The poison item and the others of its last chunk used up their 2 attempts; nobody else did.
    expect(batch).toMatchObject({ status: 'completed_with_errors', processedCount: 700 });
    expect(batch.failedCount).toBeGreaterThanOrEqual(1);
    expect(batch.failedCount).toBeLessThanOrEqual(100);
    expect(batch.succeededCount).toBe(700 - batch.failedCount);
  });

  it("resumes the dead process's chunk within seconds of the restart, not after its 30 s lease", async () => {
    const env = envWith();
    expect(env).not.toHaveProperty('BATCH_LEASE_MS'); // the default, 30 s
    const auth = devAuth('restart-user');
    const first = await restart(env);
    await enableBatchesOn(first);
    const created = await request(first.baseUrl)
      .post('/batches')
      .set(auth)
      .send({
        operation: 'diagnostics.echo',
        items: echoItems(8, { delayMs: 400 }),
        options: { chunkSize: 4 },
      })
      .expect(202);
    const id = created.body.id as string;
    const processing = async () =>
      (await request(server!.baseUrl).get(`/batches/${id}/items?status=processing`).set(auth)).body.data
        .length as number;
    await until('a chunk in flight', async () => (await processing()) > 0, 10_000);
    const restartedAt = Date.now();
    await restart(env);
    const batch = await finishedBatch(id, auth, 'the batch finished after the restart', 25_000);
    const took = Date.now() - restartedAt;
    console.log(`Restart to completion of a SIGKILLed process's batch (30 s lease): ${took} ms`);
    expect(took).toBeLessThan(15_000);
    expect(batch).toMatchObject({ status: 'completed', processedCount: 8, succeededCount: 8 });
  });
});

describe(`Control races end exact (${TEST_BACKEND})`, () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await givenApp({ RATE_LIMIT_BATCH_OPERATIONS: '1000/3600', BATCH_RETRY_BASE_MS: '20' });
    await givenBatchFeatureOn(sut);
  });
  afterAll(() => sut.close());

  /** 240 echo items: every 7th fails for good, every 11th fails once, the rest take 8 ms. */
  const stormItems = () =>
    echoItems(240).map((item, n) =>
      n % 7 === 0
        ? { ...item, failPermanently: true }
        : n % 11 === 0
          ? { ...item, failTimes: 1 }
          : { ...item, delayMs: 8 },
    );
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('cancels what a chunk in flight queued again for a retry after the cancel, and the batch finishes', async () => {
    const user = givenUser(sut);
    for (let round = 0; round < 4; round++) {
      // One chunk of 10 items taking ~150 ms, shorter than the in-flight status poll: the
      // cancel lands mid-chunk, the chunk records a transient failure after it.
      const items = echoItems(10).map((item, n) =>
        n === 3 ? { ...item, failTimes: 1 } : { ...item, delayMs: 15 },
      );
      const batch = await givenBatch(sut, user, { items, options: { chunkSize: 10, maxAttempts: 3 } });
      await until('the chunk in flight', async () => {
        const res = await sut.http().get(`/batches/${batch.id}/items?status=processing`).set(user.auth);
        return res.body.data.length > 0;
      });
      await sut.http().post(`/batches/${batch.id}/cancel`).set(user.auth).expect(202);
      const done = await waitForBatch(sut, user, batch.id, (b) => b.finishedAt !== null, 10_000);
      expect(done.status).toBe('cancelled');
      expect(done.processedCount + done.cancelledCount).toBe(10);
      const queued = await sut.prisma.batchJobItem.count({
        where: { batch: { id: batch.id }, status: 'queued' },
      });
      expect(queued).toBe(0);
    }
  });

  it('settles every item, with counters equal to the rows and finishedAt set, whatever order cancel, pause, resume and retry arrive in', async () => {
    const user = givenUser(sut);
    const batches = await Promise.all(
      Array.from({ length: 6 }, () =>
        givenBatch(sut, user, { items: stormItems(), options: { chunkSize: 10, maxAttempts: 2 } }),
      ),
    );
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647) * 15;
    await Promise.all(
      batches.map(async (batch, b) => {
        await pause(40 + b * 30);
        const sent: Promise<unknown>[] = [];
        for (let round = 0; round < 12; round++)
          for (const action of ['cancel', 'retry', 'pause', 'resume'].sort(() => random() - 7.5)) {
            // The last batch never hears a cancel: its storm must end by itself, exactly too.
            if (action === 'cancel' && (b === batches.length - 1 || round < 3)) continue;
            sent.push(sut.http().post(`/batches/${batch.id}/${action}`).set(user.auth).send({}).then());
            await pause(random());
          }
        await Promise.all(sent);
        // Paused batches are resumed, so every batch can end.
        await pause(300);
        await sut.http().post(`/batches/${batch.id}/resume`).set(user.auth).send({});
      }),
    );
    for (const batch of batches) {
      const done = await waitForBatch(sut, user, batch.id, (b) => b.finishedAt !== null, 60_000);
      const counts = await sut.prisma.batchJobItem.groupBy({
        by: ['status'],
        where: { batch: { id: batch.id } },
        _count: { _all: true },
      });
      const rows = Object.fromEntries(counts.map((c) => [c.status, c._count._all]));
      expect({ ...rows, total: done.itemCount }).toEqual({
        ...(done.succeededCount > 0 ? { success: done.succeededCount } : {}),
        ...(done.failedCount > 0 ? { failed: done.failedCount } : {}),
        ...(done.cancelledCount > 0 ? { cancelled: done.cancelledCount } : {}),
        total: 240,
      });
      expect(done.processedCount + done.cancelledCount).toBe(240);
      expect(['cancelled', 'completed_with_errors']).toContain(done.status);
    }
  });
});
