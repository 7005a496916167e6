import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import request from 'supertest';
import { io } from 'socket.io-client';
import { migratePostgres } from '../../src/common/prisma/postgres-migrator';
import { echoItems } from '../support/factories';
import { startPrivatePostgres, startPrivateRedis } from '../support/private-services';
import { enableBatchesOn, spawnServer, ServerProcess } from '../support/server-process';
import { givenTempDatabase, TempDatabase } from '../support/temp-database';
import { until, devAuth as auth, devToken as token } from '../support/wait';

const alive = (s: ServerProcess) => s.child.exitCode === null && s.child.signalCode === null;

function logLines(logDir: string, message: RegExp): string[] {
  if (!fs.existsSync(logDir)) return [];
  return fs
    .readdirSync(logDir)
    .filter((f) => f.startsWith('application-'))
    .flatMap((f) => fs.readFileSync(path.join(logDir, f), 'utf8').split('\n'))
    .filter((line) => message.test(line));
}

describe('Faults: Redis, PostgreSQL and a locked SQLite file go away and come back', () => {
  const servers: ServerProcess[] = [];
  let db: TempDatabase;

  beforeEach(() => {
    db = givenTempDatabase();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.crash()));
    await db.remove();
  });

  it('survives a SIGKILLed Redis mid-batch: no 5xx, no exit, exact counts, and fan-out resumes when it is back', async () => {
    const redis = await startPrivateRedis();
    try {
      const env = (name: string, extra: Record<string, string> = {}) => ({
        DATABASE_URL: db.url,
        LOG_DIR: path.join(db.dir, `logs-${name}`),
        REDIS_URL: redis.url,
        BATCH_POLL_MS: '20',
        RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
        RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
        FEATURE_FLAG_CACHE_MS: '1000',
        ...extra,
      });
      const worker = await spawnServer(env('worker'));
      const api = await spawnServer(env('api', { BATCH_WORKERS: '0' }));
      servers.push(worker, api);
      await enableBatchesOn(worker);
      const created = await request(worker.baseUrl)
        .post('/batches')
        .set(auth('r-user'))
        .send({
          operation: 'diagnostics.echo',
          items: echoItems(1500, { delayMs: 2 }),
          options: { chunkSize: 10 },
        })
        .expect(202);
      const id = created.body.id as string;
      await until(
        'progress',
        async () =>
          (await request(api.baseUrl).get(`/batches/${id}`).set(auth('r-user'))).body.processedCount > 0,
      );

      await redis.kill();
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        for (const s of [worker, api]) {
          statuses.push((await request(s.baseUrl).get(`/batches/${id}`).set(auth('r-user'))).status);
          statuses.push((await request(s.baseUrl).get('/me/features').set(auth('r-user'))).status);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(statuses.every((s) => s === 200)).toBe(true);
      // A new batch can be created while Redis is down (limits fall back to the database).
      const during = await request(api.baseUrl)
        .post('/batches')
        .set(auth('r-user'))
        .send({ operation: 'diagnostics.echo', items: echoItems(5) })
        .expect(202);
      const health = await request(worker.baseUrl).get('/health').expect(200);
      expect(health.body).toEqual({ status: 'degraded', db: 'ok', redis: 'down' });
      for (const batchId of [id, during.body.id as string]) {
        await until('completion during the outage', async () => {
          const res = await request(api.baseUrl).get(`/batches/${batchId}`).set(auth('r-user'));
          return res.body.finishedAt !== null;
        });
      }
      const final = await request(api.baseUrl).get(`/batches/${id}`).set(auth('r-user')).expect(200);
      expect(final.body).toMatchObject({ status: 'completed', processedCount: 1500, succeededCount: 1500 });
      expect(alive(worker) && alive(api)).toBe(true);

      await redis.start();
      for (const s of [worker, api])
        await until(
          'redis back',
          async () => (await request(s.baseUrl).get('/health')).body.status === 'ok',
          20_000,
        );
      // The API-only instance processes nothing: what its socket hears came through Redis.
      const socket = io(`${api.baseUrl}/batches`, {
        auth: { token: token('r-user') },
        transports: ['websocket'],
      });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        });
        const completed: string[] = [];
        socket.on('batch-complete', (p: { batchId: string }) => completed.push(p.batchId));
        const after = await request(worker.baseUrl)
          .post('/batches')
          .set(auth('r-user'))
          .send({ operation: 'diagnostics.echo', items: echoItems(50) })
          .expect(202);
        await until('event through Redis', () => completed.includes(after.body.id as string), 20_000);
      } finally {
        socket.close();
      }
      // The outage was logged once per process, not once per reconnection attempt.
      for (const name of ['worker', 'api']) {
        expect(logLines(path.join(db.dir, `logs-${name}`), /Redis is unreachable/)).toHaveLength(1);
      }
    } finally {
      await redis.kill();
    }
  });

  it('starts while Redis is unreachable (degraded) and picks it up when it appears', async () => {
    const redis = await startPrivateRedis();
    await redis.kill();
    try {
      const server = await spawnServer({
        DATABASE_URL: db.url,
        LOG_DIR: path.join(db.dir, 'logs'),
        REDIS_URL: redis.url,
      });
      servers.push(server);
      expect((await request(server.baseUrl).get('/health').expect(200)).body).toEqual({
        status: 'degraded',
        db: 'ok',
        redis: 'down',
      });
      await request(server.baseUrl).get('/me/features').set(auth('early')).expect(200);
      await redis.start();
      await until(
        'redis picked up',
        async () => (await request(server.baseUrl).get('/health')).body.status === 'ok',
        20_000,
      );
    } finally {
      await redis.kill();
    }
  });

  it('answers 503 DATABASE_BUSY for writes while another process holds the SQLite write lock, keeps reads at 200, then finishes the batch', async () => {
    const server = await spawnServer({
      DATABASE_URL: db.url,
      LOG_DIR: path.join(db.dir, 'logs'),
      BATCH_POLL_MS: '20',
      RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
      RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
    });
    servers.push(server);
    await enableBatchesOn(server);
    const created = await request(server.baseUrl)
      .post('/batches')
      .set(auth('busy-user'))
      .send({
        operation: 'diagnostics.echo',
        items: echoItems(300, { delayMs: 5 }),
        options: { chunkSize: 5 },
      })
      .expect(202);
    const id = created.body.id as string;
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(${JSON.stringify(db.file)});
         db.exec('BEGIN IMMEDIATE'); console.log('locked');
         setTimeout(() => { db.exec('COMMIT'); db.close(); }, 8000);`,
      ],
      { cwd: path.resolve(__dirname, '..', '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const started = Date.now();
    const read = await request(server.baseUrl).get(`/batches/${id}`).set(auth('busy-user'));
    expect(read.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    // The same code on every route: a flag change goes through the ORM's interactive transaction.
    const [write, flagWrite] = await Promise.all([
      request(server.baseUrl)
        .post('/batches')
        .set(auth('busy-user'))
        .send({ operation: 'diagnostics.echo', items: [{ n: 1 }] }),
      request(server.baseUrl)
        .put('/feature-flags/SOME_FLAG')
        .set(auth('root', ['admin']))
        .send({ enabled: true, rollout: 10 }),
    ]);
    for (const res of [write, flagWrite]) {
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 503, code: 'DATABASE_BUSY' });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(Date.now() - started).toBeLessThan(7000);
    await new Promise((r) => holder.once('exit', r));
    await until('completion after the lock', async () => {
      const res = await request(server.baseUrl).get(`/batches/${id}`).set(auth('busy-user'));
      return res.body.finishedAt !== null;
    });
    const final = await request(server.baseUrl).get(`/batches/${id}`).set(auth('busy-user')).expect(200);
    expect(final.body).toMatchObject({ status: 'completed', processedCount: 300, succeededCount: 300 });
    // The 503 stored nothing: only the first batch exists.
    const list = await request(server.baseUrl).get('/batches').set(auth('busy-user')).expect(200);
    expect(list.body.data).toHaveLength(1);
    expect(alive(server)).toBe(true);
  });

  it('survives PostgreSQL stopped (-m immediate) mid-import: quick 503s with Retry-After, then every DOI exactly once', async () => {
    const pg = await startPrivatePostgres();
    try {
      await migratePostgres(pg.url);
      const server = await spawnServer({
        DATABASE_URL: pg.url,
        LOG_DIR: path.join(db.dir, 'logs'),
        BATCH_POLL_MS: '20',
        BATCH_CHUNK_DELAY_MS: '2',
        MAX_BATCH_ITEMS: '20000',
        RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
        RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
      });
      servers.push(server);
      await enableBatchesOn(server);
      const distinct = 3000;
      const items = Array.from({ length: 4000 }, (_, i) => ({
        title: `Outage ${i}`,
        doi: `10.7777/o-${i % distinct}`,
      }));
      const created = await request(server.baseUrl)
        .post('/batches')
        .set(auth('pg-user'))
        .send({ operation: 'papers.import', items, options: { chunkSize: 50 } })
        .expect(202);
      const id = created.body.id as string;
      await until(
        'progress',
        async () =>
          (await request(server.baseUrl).get(`/batches/${id}`).set(auth('pg-user'))).body.processedCount > 0,
      );

      pg.stop();
      const answers: { status: number; ms: number; retryAfter?: string; code?: string }[] = [];
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline) {
        for (const call of [
          () => request(server.baseUrl).get(`/batches/${id}`).set(auth('pg-user')),
          () =>
            request(server.baseUrl)
              .post('/batches')
              .set(auth('pg-user'))
              .send({ operation: 'diagnostics.echo', items: [{}] }),
          () => request(server.baseUrl).get('/health'),
        ]) {
          const t = Date.now();
          const res = await call();
          answers.push({
            status: res.status,
            ms: Date.now() - t,
            retryAfter: res.headers['retry-after'],
            code: res.body.code,
          });
        }
      }
      expect(answers.every((a) => a.ms < 6000)).toBe(true);
      expect(answers.every((a) => a.status === 200 || a.status === 202 || a.status === 503)).toBe(true);
      const unavailable = answers.filter((a) => a.status === 503);
      expect(unavailable.length).toBeGreaterThan(0);
      expect(unavailable.every((a) => a.retryAfter !== undefined)).toBe(true);
      expect(unavailable.filter((a) => a.code).every((a) => a.code === 'DATABASE_UNAVAILABLE')).toBe(true);
      expect(alive(server)).toBe(true);

      pg.start();
      await until(
        'completion after the outage',
        async () =>
          (await request(server.baseUrl).get(`/batches/${id}`).set(auth('pg-user'))).body.finishedAt != null,
        90_000,
      );
      const final = await request(server.baseUrl).get(`/batches/${id}`).set(auth('pg-user')).expect(200);
      expect(final.body).toMatchObject({ status: 'completed', processedCount: 4000, succeededCount: 4000 });
      const papers = await request(server.baseUrl).get('/papers?limit=1').set(auth('pg-user')).expect(200);
      expect(papers.body.total).toBe(distinct);
    } finally {
      pg.remove();
    }
  });
});
