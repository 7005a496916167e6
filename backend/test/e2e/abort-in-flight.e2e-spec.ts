import path from 'node:path';
import request from 'supertest';
import { JwtService } from '@nestjs/jwt';
import { DEV_JWT_SECRET } from '../../src/common/config/app-config';
import { spawnServer, ServerProcess } from '../support/server-process';
import { givenTempDatabase, TempDatabase } from '../support/temp-database';

const jwt = new JwtService();
const auth = (userId: string, roles: string[] = []) => ({
  Authorization: `Bearer ${jwt.sign({ sub: userId, roles }, { secret: DEV_JWT_SECRET, expiresIn: 3600 })}`,
});

async function until<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Work in flight stops within a second of a cancel or pause sent to another process. */
describe('Cancel and pause stop items in flight in whichever process holds them', () => {
  let db: TempDatabase;
  let worker: ServerProcess;
  let api: ServerProcess;

  beforeAll(async () => {
    db = givenTempDatabase();
    const env = (name: string, extra: Record<string, string> = {}) => ({
      DATABASE_URL: db.url,
      LOG_DIR: path.join(db.dir, `logs-${name}`),
      BATCH_POLL_MS: '20',
      RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
      RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
      ...extra,
    });
    worker = await spawnServer(env('worker'));
    api = await spawnServer(env('api', { BATCH_WORKERS: '0' }));
    await request(api.baseUrl)
      .put('/feature-flags/BATCH_OPERATIONS')
      .set(auth('root', ['admin']))
      .send({ enabled: true, rollout: 100 })
      .expect(200);
  });
  afterAll(async () => {
    await Promise.all([worker.stop(), api.stop()]);
    await db.remove();
  });

  const batch = (id: string) => request(api.baseUrl).get(`/batches/${id}`).set(auth('abort-user'));
  const items = async (id: string) =>
    (await request(api.baseUrl).get(`/batches/${id}/items?limit=100`).set(auth('abort-user'))).body.data as {
      status: string;
      attempts: number;
    }[];
  const slowBatch = async () => {
    const res = await request(api.baseUrl)
      .post('/batches')
      .set(auth('abort-user'))
      .send({
        operation: 'diagnostics.echo',
        items: Array.from({ length: 10 }, (_, n) => ({ n, delayMs: 10_000 })),
        options: { chunkSize: 10 },
      })
      .expect(202);
    const id = res.body.id as string;
    await until(
      'items in flight',
      () => items(id),
      (list) => list.every((i) => i.status === 'processing'),
    );
    return id;
  };

  it('cancel: in-flight items become cancelled within a second and the batch ends cancelled', async () => {
    const id = await slowBatch();
    const sent = Date.now();
    await request(api.baseUrl).post(`/batches/${id}/cancel`).set(auth('abort-user')).expect(202);
    const final = await until(
      'cancelled',
      async () => (await batch(id)).body,
      (b) => b.finishedAt !== null,
      5_000,
    );
    expect(Date.now() - sent).toBeLessThan(1_500);
    expect(final).toMatchObject({ status: 'cancelled', cancelledCount: 10, processedCount: 0 });
    expect((await items(id)).every((i) => i.status === 'cancelled')).toBe(true);
  });

  it('pause: in-flight items go back to the queue without losing an attempt, and resume claims them again', async () => {
    const id = await slowBatch();
    const sent = Date.now();
    await request(api.baseUrl).post(`/batches/${id}/pause`).set(auth('abort-user')).expect(202);
    await until(
      'requeued',
      () => items(id),
      (list) => list.every((i) => i.status === 'queued'),
      5_000,
    );
    expect(Date.now() - sent).toBeLessThan(1_500);
    expect((await items(id)).every((i) => i.attempts === 0)).toBe(true);
    expect((await batch(id)).body).toMatchObject({ status: 'paused', processedCount: 0 });
    await request(api.baseUrl).post(`/batches/${id}/resume`).set(auth('abort-user')).expect(202);
    // Resumed items sleep again (10 s each, one chunk): cancel that run too, the attempts show one claim each.
    await until(
      'in flight again',
      () => items(id),
      (list) => list.every((i) => i.status === 'processing'),
    );
    expect((await items(id)).every((i) => i.attempts === 1)).toBe(true);
    await request(api.baseUrl).post(`/batches/${id}/cancel`).set(auth('abort-user')).expect(202);
    await until(
      'cancelled',
      async () => (await batch(id)).body,
      (b) => b.status === 'cancelled' && b.finishedAt !== null,
      5_000,
    );
  });
});
