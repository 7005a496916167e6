import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createEngineDatabase } from '../../src/modules/shared/database/engine-database';
import { startHostileWorld } from '../support/hostile-world';
import { givenRedisPrefix, REDIS_URL } from '../support/redis';
import { enableBatchesOn, spawnServer, type ServerProcess } from '../support/server-process';
import { givenDatabase, TEST_BACKEND, type TempDatabase } from '../support/temp-database';
import { devAuth, until } from '../support/wait';

type Auth = Record<string, string>;
type Item = {
  seq: number;
  status: string;
  error: string | null;
  errorCategory: string | null;
  retryable: boolean | null;
};

/** Real server processes against a hostile outside world on loopback (pdf.js needs a real process). */
describe('papers.fetch-fulltext against a hostile outside world', () => {
  let world: Awaited<ReturnType<typeof startHostileWorld>>;
  let db: TempDatabase;
  let redis: ReturnType<typeof givenRedisPrefix> | null;
  let server: ServerProcess;
  const alice = devAuth('alice-hostile');
  const bob = devAuth('bob-hostile');

  const env = (extra: Record<string, string> = {}) => ({
    ...(redis ? { REDIS_URL, REDIS_KEY_PREFIX: redis.prefix } : {}),
    DATABASE_URL: db.url,
    LOG_DIR: path.join(db.dir, 'logs'),
    FULLTEXT_BASE_URL: world.baseUrl,
    FULLTEXT_ALLOW_HOSTS: world.allowHosts,
    FULLTEXT_ALLOWED_PORTS: world.allowedPorts,
    FULLTEXT_CONCURRENCY: '4',
    FULLTEXT_RATE: '1000/60',
    FULLTEXT_PER_HOST_CONCURRENCY: '4',
    FULLTEXT_PER_HOST_RATE: '1000/60',
    FULLTEXT_EXTRACT_TIMEOUT_MS: '120000',
    BATCH_RETRY_BASE_MS: '100',
    BATCH_POLL_MS: '20',
    RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
    RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
    ...extra,
  });

  beforeAll(async () => {
    world = await startHostileWorld();
    db = await givenDatabase();
    redis = TEST_BACKEND === 'postgres' ? givenRedisPrefix() : null;
    server = await spawnServer(env());
    await enableBatchesOn(server);
  });
  afterAll(async () => {
    await server?.stop();
    await db.remove();
    await redis?.cleanup();
    await world.close();
  });

  const submit = async (auth: Auth, body: object, on = server) =>
    (await request(on.baseUrl).post('/batches').set(auth).send(body).expect(202)).body as { id: string };
  const finished = async (auth: Auth, id: string, timeoutMs = 90_000, on = server) => {
    let batch: Record<string, any> = {};
    await until(
      `batch ${id}`,
      async () => {
        batch = (await request(on.baseUrl).get(`/batches/${id}`).set(auth)).body;
        return batch.finishedAt !== null && batch.finishedAt !== undefined;
      },
      timeoutMs,
    );
    return batch;
  };
  const itemsOf = async (auth: Auth, id: string, on = server) =>
    (await request(on.baseUrl).get(`/batches/${id}/items?limit=100`).set(auth).expect(200)).body
      .data as Item[];
  /** Imports papers with these DOIs for the user; their ids in the same order. */
  const papersFor = async (auth: Auth, dois: string[], on = server) => {
    const imported = await submit(
      auth,
      { operation: 'papers.import', items: dois.map((doi, i) => ({ title: `Paper ${i}`, doi })) },
      on,
    );
    await finished(auth, imported.id, 30_000, on);
    const list = (await request(on.baseUrl).get('/papers?limit=100').set(auth).expect(200)).body.data as {
      id: string;
      doi: string;
    }[];
    return dois.map((doi) => list.find((p) => p.doi === doi)!.id);
  };
  const fetchBatch = async (auth: Auth, paperIds: string[], on = server) =>
    submit(auth, { operation: 'papers.fetch-fulltext', items: paperIds.map((paperId) => ({ paperId })) }, on);

  it('refuses every redirect to an internal address, in every spelling and over a chain of hops, and stores nothing', async () => {
    const dois = [...world.redirects.map((_, k) => `10.5555/to-${k}`), '10.5555/chain'];
    const ids = await papersFor(alice, dois);
    const batch = await fetchBatch(alice, ids);
    expect(await finished(alice, batch.id)).toMatchObject({
      status: 'completed_with_errors',
      failedCount: dois.length,
    });
    const items = await itemsOf(alice, batch.id);
    for (const item of items) {
      expect(item).toMatchObject({ status: 'failed', errorCategory: 'blocked_address', retryable: false });
      expect(item.error).toMatch(/^Refused /);
    }
    expect(world.internalHits()).toBe(0);
    for (const id of ids) {
      const paper = (await request(server.baseUrl).get(`/papers/${id}`).set(alice).expect(200)).body;
      expect(paper).toMatchObject({ fullTextStatus: 'failed', fullText: null });
    }
  });

  it('keeps every DOI under the base path, whatever dots, encodings or backslashes it holds', async () => {
    const dois = ['10.5555/../../x', '10.5555/%2e%2e/%2e%2e/x', '10.5555/.%2e/x', '10.5555/..\\..\\x'];
    const from = world.requests.length;
    const ids = await papersFor(alice, dois);
    const batch = await fetchBatch(alice, ids);
    await finished(alice, batch.id);
    const asked = world.requests.slice(from);
    expect(asked).toHaveLength(dois.length);
    for (const raw of asked) expect(raw.startsWith('/pub/10.5555/')).toBe(true);
    expect((await itemsOf(alice, batch.id)).map((i) => i.errorCategory)).toEqual(dois.map(() => 'not_found'));
  });

  it("holds only the host that answered 429, caps its Retry-After at an hour, and other users' papers go on", async () => {
    const [bounced] = await papersFor(alice, ['10.5555/bounce']);
    const [good] = await papersFor(bob, ['10.5555/ok-bob']);
    const held = await fetchBatch(alice, [bounced]);
    await until(
      'the 429 recorded',
      async () => (await itemsOf(alice, held.id))[0].errorCategory === 'rate_limited',
    );
    const startedAt = Date.now();
    const other = await fetchBatch(bob, [good]);
    expect(await finished(bob, other.id, 15_000)).toMatchObject({ status: 'completed', succeededCount: 1 });
    expect(Date.now() - startedAt).toBeLessThan(10_000);

    const [item] = await itemsOf(alice, held.id);
    expect(item).toMatchObject({ status: 'queued', errorCategory: 'rate_limited', retryable: true });
    const engine = createEngineDatabase(db.url);
    try {
      const hourFromNow = Date.now() + 3_600_000;
      const [hold] = await engine.query<{ key: string; until: unknown }[]>(
        `SELECT "key", "until" FROM "OperationHold" WHERE "key" = ?`,
        world.limiterHost,
      );
      expect(Number(hold.until)).toBeGreaterThan(Date.now());
      expect(Number(hold.until)).toBeLessThanOrEqual(hourFromNow);
      const [row] = await engine.query<{ nextAttemptAt: unknown }[]>(
        `SELECT "nextAttemptAt" FROM "BatchJobItem" WHERE "batchKey" = (SELECT "key" FROM "BatchOperation" WHERE "id" = ?)`,
        held.id,
      );
      expect(Number(row.nextAttemptAt)).toBeGreaterThan(Date.now() + 3_000_000);
      expect(Number(row.nextAttemptAt)).toBeLessThanOrEqual(hourFromNow);
    } finally {
      await engine.close();
    }
    await request(server.baseUrl).post(`/batches/${held.id}/cancel`).set(alice).expect(202);
  });

  it("never holds up another user's batch while one user's downloads trickle on every slot", async () => {
    const ids = await papersFor(
      alice,
      [0, 1, 2, 3, 4, 5].map((n) => `10.5555/slow-${n}`),
    );
    const slow = await fetchBatch(alice, ids);
    await until('every slot downloading', async () => {
      const items = await itemsOf(alice, slow.id);
      return items.filter((i) => i.status === 'processing').length === 4;
    });
    const startedAt = Date.now();
    const echo = await submit(bob, { operation: 'diagnostics.echo', items: [{ hello: 'bob' }] });
    expect(await finished(bob, echo.id, 10_000)).toMatchObject({ status: 'completed' });
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    await request(server.baseUrl).post(`/batches/${slow.id}/cancel`).set(alice).expect(202);
    await finished(alice, slow.id, 5_000);
  });

  const sqliteOnly = TEST_BACKEND === 'sqlite' ? it : it.skip;

  /** Peak resident memory of a process, from the kernel (all its threads). */
  const peakRssMb = (pid: number) => {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
  };

  sqliteOnly(
    'fails a decompression bomb as parse_error under the memory cap, and the process lives on well under 1 GB',
    async () => {
      const own = await spawnServer(env({ LOG_DIR: path.join(db.dir, 'logs-bomb') }));
      try {
        const [bombId] = await papersFor(alice, ['10.5555/bomb'], own);
        const batch = await fetchBatch(alice, [bombId], own);
        expect(await finished(alice, batch.id, 60_000, own)).toMatchObject({ failedCount: 1 });
        const [item] = await itemsOf(alice, batch.id, own);
        expect(item).toMatchObject({ status: 'failed', errorCategory: 'parse_error', retryable: false });
        const peak = peakRssMb(own.child.pid!);
        console.log(`Peak RSS while a 64 MiB-string PDF was parsed: ${peak.toFixed(0)} MB`);
        expect(peak).toBeLessThan(1024);
        await request(own.baseUrl).get('/health').expect(200);
      } finally {
        await own.stop();
      }
    },
  );

  sqliteOnly(
    'extracts four 2,000-page PDFs at once off the event loop: the API stays responsive, and cancel stops an extraction',
    async () => {
      const ids = await papersFor(
        alice,
        [0, 1, 2, 3].map((n) => `10.5555/long-${n}`),
      );
      const batch = await fetchBatch(alice, ids);
      await until('extracting', async () =>
        (await itemsOf(alice, batch.id)).some((i) => i.status === 'processing'),
      );
      const latencies: number[] = [];
      const probe = async (url: string) => {
        const t = performance.now();
        await request(server.baseUrl).get(url).set(alice).expect(200);
        latencies.push(performance.now() - t);
      };
      while (
        (await request(server.baseUrl).get(`/batches/${batch.id}`).set(alice)).body.finishedAt === null
      ) {
        await probe('/health');
        await probe(`/batches/${batch.id}`);
      }
      expect(await finished(alice, batch.id)).toMatchObject({ status: 'completed', succeededCount: 4 });
      const sorted = [...latencies].sort((x, y) => x - y);
      const p99 = sorted[Math.floor(sorted.length * 0.99)];
      console.log(
        `API during 4 × 2,000-page extractions: ${latencies.length} requests, p99 ${p99.toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`,
      );
      expect(latencies.length).toBeGreaterThan(20);
      expect(sorted[sorted.length - 1]).toBeLessThan(1_000);
      const paper = (await request(server.baseUrl).get(`/papers/${ids[0]}`).set(alice).expect(200)).body;
      expect(paper.fullText).toContain('Page 2000.');

      // Cancel while a long PDF is being extracted: the thread is stopped, the item cancelled within a second or so.
      const [again] = await papersFor(alice, ['10.5555/long-cancel']);
      const cancelled = await fetchBatch(alice, [again]);
      await until(
        'extracting',
        async () =>
          (await request(server.baseUrl).get(`/batches/${cancelled.id}/items`).set(alice)).body.data[0]
            .stage === 'extracting',
      );
      const sent = Date.now();
      await request(server.baseUrl).post(`/batches/${cancelled.id}/cancel`).set(alice).expect(202);
      await until(
        'the item cancelled',
        async () => (await itemsOf(alice, cancelled.id))[0].status === 'cancelled',
        5_000,
      );
      expect(Date.now() - sent).toBeLessThan(1_500);
    },
  );
});
