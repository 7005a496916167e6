import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { io, Socket } from 'socket.io-client';
import { echoItems, givenBatchFeatureOn, givenUser } from '../support/factories';
import { givenRedisPrefix, REDIS_URL } from '../support/redis';
import { spawnServer, ServerProcess } from '../support/server-process';
import { givenDatabase, TempDatabase } from '../support/temp-database';
import { givenApp } from '../support/test-app';
import { until, devAuth as auth, clearOfWindowEnd } from '../support/wait';

describe(`Scale-out with Redis: three instances on one ${process.env.TEST_BACKEND === 'postgres' ? 'PostgreSQL' : 'SQLite'} database`, () => {
  let db: TempDatabase;
  let redis: ReturnType<typeof givenRedisPrefix>;
  const servers: ServerProcess[] = [];
  let socket: Socket | undefined;

  beforeAll(async () => {
    db = await givenDatabase();
    redis = givenRedisPrefix();
    for (const name of ['a', 'b', 'c']) {
      servers.push(
        await spawnServer({
          DATABASE_URL: db.url,
          LOG_DIR: path.join(db.dir, 'logs'),
          REDIS_URL,
          REDIS_KEY_PREFIX: redis.prefix,
          FEATURE_FLAG_CACHE_MS: '600000',
          RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
          ECHO_INVOCATION_LOG: path.join(db.dir, `invocations-${name}.log`),
          BATCH_POLL_MS: '20',
        }),
      );
    }
  });
  afterAll(async () => {
    socket?.close();
    await Promise.all(servers.map((s) => s.stop()));
    await redis.cleanup();
    await db.remove();
  });

  it('sees a flag change made on A on B and C within a second (pushed over Redis, not the 10-minute cache)', async () => {
    const [a, b, c] = servers;
    for (const s of [b, c]) {
      const res = await request(s.baseUrl).get('/me/features').set(auth('flag-user')).expect(200);
      expect(res.body.BATCH_OPERATIONS.enabled).toBe(false);
    }
    await request(a.baseUrl)
      .put('/feature-flags/BATCH_OPERATIONS')
      .set(auth('root', ['admin']))
      .send({ enabled: true, rollout: 100 })
      .expect(200);
    const changedAt = Date.now();
    for (const s of [b, c]) {
      await until(
        'flag on',
        async () =>
          (await request(s.baseUrl).get('/me/features').set(auth('flag-user'))).body.BATCH_OPERATIONS
            .enabled === true,
        1000,
      );
    }
    expect(Date.now() - changedAt).toBeLessThan(1000);
  });

  it('processes a batch created on A with all three instances, every item once, and streams it to a socket on C', async () => {
    const [a, , c] = servers;
    // An API-only instance processes nothing, so whatever its socket receives crossed Redis.
    const observer = await spawnServer({
      DATABASE_URL: db.url,
      LOG_DIR: path.join(db.dir, 'logs'),
      REDIS_URL,
      REDIS_KEY_PREFIX: redis.prefix,
      BATCH_WORKERS: '0',
    });
    servers.push(observer);
    const observed: string[] = [];
    const observerSocket = io(`${observer.baseUrl}/batches`, {
      auth: { token: auth('socket-user').Authorization.slice(7) },
      transports: ['websocket'],
    });
    observerSocket.on('batch-complete', (payload: { batchId: string }) => observed.push(payload.batchId));
    await new Promise<void>((resolve) => observerSocket.once('connect', () => resolve()));
    socket = io(`${c.baseUrl}/batches`, {
      auth: { token: auth('socket-user').Authorization.slice(7) },
      transports: ['websocket'],
    });
    await new Promise<void>((resolve, reject) => {
      socket!.once('connect', () => resolve());
      socket!.once('connect_error', reject);
    });
    const events: { name: string; payload: any }[] = [];
    socket.on('batch-progress', (payload) => events.push({ name: 'batch-progress', payload }));
    socket.on('batch-complete', (payload) => events.push({ name: 'batch-complete', payload }));

    const created = await request(a.baseUrl)
      .post('/batches')
      .set(auth('socket-user'))
      .send({
        operation: 'diagnostics.echo',
        items: echoItems(3000, { delayMs: 1 }),
        options: { chunkSize: 20 },
      })
      .expect(202);
    await until(
      'completion on the socket',
      () => events.some((e) => e.name === 'batch-complete' && e.payload.batchId === created.body.id),
      90_000,
    );

    const final = await request(c.baseUrl)
      .get(`/batches/${created.body.id as string}`)
      .set(auth('socket-user'))
      .expect(200);
    expect(final.body).toMatchObject({ status: 'completed', succeededCount: 3000 });
    const complete = events.find((e) => e.name === 'batch-complete')!.payload;
    expect(complete).toMatchObject({ processedCount: 3000, percentage: 100 });
    expect(events.filter((e) => e.name === 'batch-progress').length).toBeGreaterThan(0);

    const perInstance = ['a', 'b', 'c'].map((n) => {
      const file = path.join(db.dir, `invocations-${n}.log`);
      return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
    });
    const ids = perInstance.flat().map((l) => l.split(' ')[0]);
    expect(ids).toHaveLength(3000);
    expect(new Set(ids).size).toBe(3000);
    expect(perInstance.filter((lines) => lines.length > 0).length).toBe(3);
    await until(
      'completion on the API-only instance',
      () => observed.includes(created.body.id as string),
      5000,
    );
    observerSocket.close();
  });

  it('gives a socket strictly rising seq and at most one progress per interval while three instances process one batch', async () => {
    const [a, b] = servers;
    const watcher = io(`${b.baseUrl}/batches`, {
      auth: { token: auth('order-user').Authorization.slice(7) },
      transports: ['websocket'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        watcher.once('connect', () => resolve());
        watcher.once('connect_error', reject);
      });
      const events: { name: string; seq: number; receivedAt: number; batchId: string }[] = [];
      for (const name of ['batch-progress', 'batch-complete'])
        watcher.on(name, (p: { seq: number; batchId: string }) =>
          events.push({ name, seq: p.seq, batchId: p.batchId, receivedAt: Date.now() }),
        );
      const created = await request(a.baseUrl)
        .post('/batches')
        .set(auth('order-user'))
        .send({
          operation: 'diagnostics.echo',
          items: echoItems(2000, { delayMs: 1 }),
          options: { chunkSize: 10 },
        })
        .expect(202);
      const id = created.body.id as string;
      // Subscribing too puts the socket in two rooms (user and batch): it still gets each event once.
      const ack = await watcher.emitWithAck('subscribe', { batchId: id });
      expect(ack).toMatchObject({ ok: true, seq: expect.any(Number) });
      await until('completion on the watcher', () => events.some((e) => e.name === 'batch-complete'), 90_000);
      await new Promise((r) => setTimeout(r, 500));
      const mine = events.filter((e) => e.batchId === id);
      const seqs = mine.map((e) => e.seq);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]);
      expect(mine.filter((e) => e.name === 'batch-complete')).toHaveLength(1);
      expect(mine[mine.length - 1].name).toBe('batch-complete');
      // Default interval 250 ms: one per interval over the span, plus the first and the final state
      // (and one for loopback jitter). Three instances coalescing on their own would send ~3x that.
      const progress = mine.filter((e) => e.name === 'batch-progress');
      const span = progress[progress.length - 1].receivedAt - progress[0].receivedAt;
      expect(progress.length).toBeLessThanOrEqual(Math.floor(span / 250) + 3);
    } finally {
      watcher.close();
    }
  });

  it('holds the 10 batches/hour limit across the three instances', async () => {
    const responses = await Promise.all(
      servers.slice(0, 3).flatMap((s) =>
        Array.from({ length: 6 }, () =>
          request(s.baseUrl)
            .post('/batches')
            .set(auth('limited-user'))
            .send({ operation: 'diagnostics.echo', items: [{ n: 1 }] }),
        ),
      ),
    );
    expect(responses.filter((r) => r.status === 202)).toHaveLength(10);
    expect(responses.filter((r) => r.status === 429)).toHaveLength(8);
  });
});

describe('Rate limiting on Redis (in process)', () => {
  it('lets exactly 10 of 200 concurrent POST /batches through and charges nothing for refused ones', async () => {
    await clearOfWindowEnd(3_600_000);
    const redis = givenRedisPrefix();
    const sut = await givenApp({
      REDIS_URL,
      REDIS_KEY_PREFIX: redis.prefix,
      RATE_LIMIT_BATCH_OPERATIONS: '10/3600',
    });
    try {
      await givenBatchFeatureOn(sut);
      const user = givenUser(sut);
      const responses = await Promise.all(
        Array.from({ length: 200 }, () =>
          sut
            .http()
            .post('/batches')
            .set(user.auth)
            .send({ operation: 'diagnostics.echo', items: [{ n: 1 }] }),
        ),
      );
      expect(responses.filter((r) => r.status === 202)).toHaveLength(10);
      const limited = responses.find((r) => r.status === 429)!;
      expect(limited.body.details.violatedPolicies[0]).toMatchObject({
        policy: 'BATCH_OPERATIONS',
        remaining: 0,
      });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(await sut.prisma.batchOperation.count({ where: { userId: user.userId } })).toBe(10);
    } finally {
      await sut.close();
      await redis.cleanup();
    }
  });
});
