import path from 'node:path';
import request from 'supertest';
import { Client } from 'pg';
import { spawnServer, ServerProcess } from '../support/server-process';
import { givenPostgresSchema, TempDatabase } from '../support/temp-database';
import { until, devAuth as auth } from '../support/wait';

describe('Durability on PostgreSQL (real server processes)', () => {
  let db: TempDatabase;
  let client: Client;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    db = await givenPostgresSchema();
    client = new Client({
      connectionString: db.url.replace(/\?schema=.*/, ''),
      options: `-c search_path=${new URL(db.url).searchParams.get('schema')}`,
    });
    await client.connect();
  });
  afterAll(async () => {
    await Promise.all(servers.splice(0).map((s) => s.crash()));
    await client.end();
    await db.remove();
  });

  const batchRow = async (id: string) =>
    (await client.query<Record<string, any>>('SELECT * FROM "BatchOperation" WHERE "id" = $1', [id])).rows[0];

  it('finishes a 20,000-item papers.import after three SIGKILLs, every item exactly once', async () => {
    const env = {
      DATABASE_URL: db.url,
      LOG_DIR: path.join(db.dir, 'logs'),
      BATCH_LEASE_MS: '1500',
      BATCH_POLL_MS: '20',
      BATCH_CHUNK_DELAY_MS: '3',
      MAX_BATCH_ITEMS: '20000',
      RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
      RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
    };
    let server = await spawnServer(env);
    servers.push(server);
    await request(server.baseUrl)
      .put('/feature-flags/BATCH_OPERATIONS')
      .set(auth('root', ['admin']))
      .send({ enabled: true, rollout: 100 })
      .expect(200);
    const distinctDois = 15_000;
    const items = Array.from({ length: 20_000 }, (_, i) => ({
      title: `Crash paper ${i}`,
      doi: `10.5555/pg-crash-${i % distinctDois}`,
    }));
    const created = await request(server.baseUrl)
      .post('/batches')
      .set(auth('pg-crash-user'))
      .send({ operation: 'papers.import', items, options: { chunkSize: 50 } })
      .expect(202);
    const id = created.body.id as string;
    for (const mark of [0.15 + Math.random() * 0.1, 0.4 + Math.random() * 0.1, 0.65 + Math.random() * 0.15]) {
      await until(`progress ${mark}`, async () => {
        const b = await batchRow(id);
        return b.processedCount >= mark * 20_000 || b.finishedAt !== null;
      });
      await servers.pop()?.crash();
      expect((await batchRow(id)).finishedAt).toBeNull();
      server = await spawnServer(env);
      servers.push(server);
    }
    await until('completion', async () => (await batchRow(id)).finishedAt !== null);
    expect(await batchRow(id)).toMatchObject({
      status: 'completed',
      processedCount: 20_000,
      succeededCount: 20_000,
      failedCount: 0,
    });
    const papers = await client.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM "Paper" WHERE "userId" = 'pg-crash-user'`,
    );
    expect(Number(papers.rows[0].n)).toBe(distinctDois);
    const inFlight = await client.query<{ n: string }>(
      `SELECT (SELECT COUNT(*) FROM "BatchJobItem" WHERE "status" IN ('processing', 'queued'))
            + (SELECT COUNT(*) FROM "BatchChunk") AS n`,
    );
    expect(Number(inFlight.rows[0].n)).toBe(0);
  });
});
