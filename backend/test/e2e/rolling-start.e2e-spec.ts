import path from 'node:path';
import request from 'supertest';
import { spawnServer, ServerProcess } from '../support/server-process';
import { givenDatabase, TempDatabase } from '../support/temp-database';
import { until, devAuth as auth } from '../support/wait';

describe('Starting more instances on a database that a running instance uses', () => {
  let db: TempDatabase;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    db = await givenDatabase();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await db.remove();
  });

  it('starts a second and a third instance (migrator, then server) while the first processes a batch', async () => {
    const env = {
      DATABASE_URL: db.url,
      LOG_DIR: path.join(db.dir, 'logs'),
      BATCH_POLL_MS: '20',
      RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
      MAX_BATCH_ITEMS: '20000',
      // Pauses between chunks keep the batch running (and writing) while the others start: 1,000
      // chunks of 20 take at least 10 s on one instance (3 ms was too short once chunks got faster).
      BATCH_CHUNK_DELAY_MS: '10',
    };
    const first = await spawnServer(env, { migrate: true });
    servers.push(first);
    await request(first.baseUrl)
      .put('/feature-flags/BATCH_OPERATIONS')
      .set(auth('root', ['admin']))
      .send({ enabled: true, rollout: 100 })
      .expect(200);
    const created = await request(first.baseUrl)
      .post('/batches')
      .set(auth('rolling-user'))
      .send({
        operation: 'papers.import',
        items: Array.from({ length: 20_000 }, (_, i) => ({ title: `P ${i}`, doi: `10.4242/r-${i}` })),
        options: { chunkSize: 20 },
      })
      .expect(202);
    const id = created.body.id as string;
    const read = async (server: ServerProcess) =>
      (await request(server.baseUrl).get(`/batches/${id}`).set(auth('rolling-user'))).body as Record<
        string,
        any
      >;
    await until('the first instance to be writing', async () => (await read(first)).processedCount > 0);

    for (let n = 0; n < 2; n++) {
      const next = await spawnServer(env, { migrate: true });
      servers.push(next);
      expect(next.output()).toMatch(/schema is up to date/);
    }
    const running = await read(first);
    expect(running.finishedAt).toBeNull();

    // A rolling restart of the first one while the others go on.
    await servers.shift()!.stop();
    servers.push(await spawnServer(env, { migrate: true }));
    await until('completion', async () => (await read(servers[0])).finishedAt !== null);
    expect(await read(servers[servers.length - 1])).toMatchObject({
      status: 'completed',
      succeededCount: 20_000,
    });
  });
});
