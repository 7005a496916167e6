import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { migratePostgres } from '../../src/common/prisma/postgres-migrator';
import { migrateSqlite } from '../../src/common/prisma/sqlite-migrator';
import { givenBatchFeatureOn, givenUser, waitForBatch } from '../support/factories';
import { givenApp, TestApp } from '../support/test-app';
import { TempDatabase, TEST_BACKEND, TEST_POSTGRES_URL } from '../support/temp-database';

/** The last migration before integer keys: the data below is written in its schema. */
const BEFORE = '20261203090000_item_error_category';
const OWNER = 'u-migrated';

/** A database at `BEFORE` on the back end under test, with a way to run SQL on it. */
async function givenOldDatabase(): Promise<
  TempDatabase & { exec(sql: string): Promise<unknown[]>; migrate(): Promise<string[]> }
> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-ops-migrate-'));
  if (TEST_BACKEND === 'sqlite') {
    const file = path.join(dir, 'app.db');
    migrateSqlite(`file:${file}`, undefined, BEFORE);
    return {
      dir,
      file,
      url: `file:${file}`,
      migrate: async () => migrateSqlite(`file:${file}`),
      exec: async (sql) => {
        const db = new Database(file);
        try {
          return sql.trim().toUpperCase().startsWith('SELECT') ? db.prepare(sql).all() : (db.exec(sql), []);
        } finally {
          db.close();
        }
      },
      remove: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `m_${process.pid}_${randomUUID().slice(0, 8)}`;
  const url = `${TEST_POSTGRES_URL}?schema=${schema}`;
  await migratePostgres(url, undefined, BEFORE);
  const inSchema = async <T>(fn: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ connectionString: TEST_POSTGRES_URL, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    dir,
    file: '',
    url,
    migrate: () => migratePostgres(url),
    exec: (sql) => inSchema(async (client) => (await client.query(sql)).rows as unknown[]),
    remove: async () => {
      await inSchema((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One moment for all rows, so the times that migrations convert can be compared exactly. */
const NOW = Date.now();
const T = (minutesAgo: number) => `'${new Date(NOW - minutesAgo * 60_000).toISOString()}'`;

/** One batch in the old schema: the row, its items (`<id>.<seq>` ids) and optionally a chunk. */
function oldBatch(b: {
  id: string;
  status: string;
  items: { status: string; result?: object; error?: string; category?: string; next?: number }[];
  claimedSeq: number;
  sealed?: boolean;
  finished?: boolean;
  started?: boolean;
  chunk?: { from: number; to: number; expiredMsAgo: number };
  createdMinutesAgo: number;
}): string {
  const count = (s: string) => b.items.filter((i) => i.status === s).length;
  const succeeded = count('success');
  const failed = count('failed');
  const rows = [
    `INSERT INTO "BatchOperation" ("id", "userId", "operation", "status", "itemCount", "processedCount", "succeededCount",
       "failedCount", "cancelledCount", "options", "metadata", "correlationId", "sealed", "lastClaimedAt", "eventSeq",
       "createdAt", "updatedAt", "startedAt", "finishedAt", "claimedSeq")
     VALUES ('${b.id}', '${OWNER}', 'diagnostics.echo', '${b.status}', ${b.items.length}, ${succeeded + failed}, ${succeeded},
       ${failed}, ${count('cancelled')}, '{"chunkSize":2,"maxAttempts":3,"allowFailures":true}', NULL, 'corr-${b.id}',
       ${b.sealed === false ? 'FALSE' : 'TRUE'}, 0, 5, ${T(b.createdMinutesAgo)}, ${T(1)},
       ${b.started ? T(b.createdMinutesAgo) : 'NULL'}, ${b.finished ? T(1) : 'NULL'}, ${b.claimedSeq});`,
    ...b.items.map(
      (item, seq) =>
        `INSERT INTO "BatchJobItem" ("id", "batchId", "seq", "payload", "status", "attempts", "progress", "error", "result",
           "nextAttemptAt", "leaseExpiresAt", "createdAt", "updatedAt", "errorCategory", "retryable")
         VALUES ('${b.id}.${String(seq).padStart(7, '0')}', '${b.id}', ${seq}, '{"n":${seq}}', '${item.status}',
           ${item.status === 'queued' && seq > b.claimedSeq ? 0 : 1}, ${item.status === 'queued' ? 0 : 100},
           ${item.error ? `'${item.error}'` : 'NULL'}, ${item.result ? `'${JSON.stringify(item.result)}'` : 'NULL'},
           ${item.next ?? 0}, 0, ${T(b.createdMinutesAgo)}, ${T(1)},
           ${item.category ? `'${item.category}'` : 'NULL'}, ${item.status === 'failed' ? 'FALSE' : 'NULL'});`,
    ),
  ];
  if (b.chunk)
    rows.push(
      `INSERT INTO "BatchChunk" ("id", "batchId", "fromSeq", "toSeq", "leaseOwner", "leaseExpiresAt")
       VALUES ('${randomUUID()}', '${b.id}', ${b.chunk.from}, ${b.chunk.to}, 'dead-worker', ${Date.now() - b.chunk.expiredMsAgo});`,
    );
  return rows.join('\n');
}

describe('Migration to integer keys and integer item times, on data in every state', () => {
  const ids = {
    completed: randomUUID(),
    withErrors: randomUUID(),
    cancelled: randomUUID(),
    paused: randomUUID(),
    processing: randomUUID(),
    storing: randomUUID(),
    pending: randomUUID(),
  };
  let db: Awaited<ReturnType<typeof givenOldDatabase>>;
  let app: TestApp | null = null;

  beforeAll(async () => {
    db = await givenOldDatabase();
    const ok = { status: 'success', result: { ok: true } };
    const queued = { status: 'queued' };
    await db.exec(
      [
        oldBatch({
          id: ids.completed,
          status: 'completed',
          items: [ok, ok, ok],
          claimedSeq: 2,
          finished: true,
          started: true,
          createdMinutesAgo: 70,
        }),
        oldBatch({
          id: ids.withErrors,
          status: 'completed_with_errors',
          items: [ok, { status: 'failed', error: 'boom', category: 'not_found' }, ok],
          claimedSeq: 2,
          finished: true,
          started: true,
          createdMinutesAgo: 60,
        }),
        oldBatch({
          id: ids.cancelled,
          status: 'cancelled',
          items: [ok, { status: 'cancelled' }, { status: 'cancelled' }],
          claimedSeq: 0,
          finished: true,
          started: true,
          createdMinutesAgo: 50,
        }),
        // Item 1 was given back by the pause (behind claimedSeq, nextAttemptAt 0: the old rule).
        oldBatch({
          id: ids.paused,
          status: 'paused',
          items: [ok, queued, queued],
          claimedSeq: 1,
          started: true,
          createdMinutesAgo: 40,
        }),
        // Item 1 waits for a due retry, 2–3 are a dead worker's chunk, 4 was never claimed.
        oldBatch({
          id: ids.processing,
          status: 'processing',
          items: [ok, { status: 'queued', error: 'flaky', next: Date.now() - 1000 }, queued, queued, queued],
          claimedSeq: 3,
          started: true,
          chunk: { from: 2, to: 3, expiredMsAgo: 5_000 },
          createdMinutesAgo: 30,
        }),
        oldBatch({
          id: ids.storing,
          status: 'pending',
          items: [queued],
          claimedSeq: -1,
          sealed: false,
          createdMinutesAgo: 0,
        }),
        oldBatch({
          id: ids.pending,
          status: 'pending',
          items: [queued, queued],
          claimedSeq: -1,
          createdMinutesAgo: 10,
        }),
        `INSERT INTO "IdempotencyRecord" ("userId", "key", "fingerprint", "state", "batchId", "expiresAt")
         VALUES ('${OWNER}', 'k-1', 'f', 'completed', '${ids.completed}', ${Date.now() + 3_600_000});`,
      ].join('\n'),
    );
  });
  afterAll(async () => {
    if (app) await app.close();
    else await db.remove();
  });

  it('keeps every batch, item, chunk and public id, and puts the items queued behind claimedSeq in the retry index', async () => {
    // What `npm start` runs before the app: the pending migrations.
    // (and any migration after it: they apply on top).
    const applied = await db.migrate();
    expect(applied[0]).toBe('20261204000000_integer_keys');
    expect(applied.every((name) => name >= '20261204000000')).toBe(true);
    const batches = (await db.exec(
      `SELECT "key", "id", "status", "claimedSeq", "itemCount" FROM "BatchOperation" ORDER BY "key"`,
    )) as { key: unknown; id: string; status: string }[];
    // Keys in creation order, public ids and states unchanged.
    expect(batches.map((b) => [Number(b.key), b.id, b.status])).toEqual([
      [1, ids.completed, 'completed'],
      [2, ids.withErrors, 'completed_with_errors'],
      [3, ids.cancelled, 'cancelled'],
      [4, ids.paused, 'paused'],
      [5, ids.processing, 'processing'],
      [6, ids.pending, 'pending'],
      [7, ids.storing, 'pending'],
    ]);
    const items = (await db.exec(
      `SELECT b."id", i."seq", i."status", i."nextAttemptAt", i."error", i."errorCategory"
       FROM "BatchJobItem" i JOIN "BatchOperation" b ON b."key" = i."batchKey" ORDER BY i."batchKey", i."seq"`,
    )) as { id: string; seq: unknown; status: string; nextAttemptAt: unknown }[];
    expect(items).toHaveLength(20);
    const retryable = items
      .filter((i) => Number(i.nextAttemptAt) > 0)
      .map((i) => [i.id, Number(i.seq)])
      .sort();
    expect(retryable).toEqual(
      [
        [ids.paused, 1],
        [ids.processing, 1],
        [ids.processing, 2],
        [ids.processing, 3],
      ].sort(),
    );
    const chunks = (await db.exec(
      `SELECT b."id", c."fromSeq", c."toSeq" FROM "BatchChunk" c JOIN "BatchOperation" b ON b."key" = c."batchKey"`,
    )) as { id: string; fromSeq: unknown; toSeq: unknown }[];
    expect(chunks.map((c) => [c.id, Number(c.fromSeq), Number(c.toSeq)])).toEqual([[ids.processing, 2, 3]]);
    const idempotency = (await db.exec(`SELECT "batchId" FROM "IdempotencyRecord"`)) as { batchId: string }[];
    expect(idempotency).toEqual([{ batchId: ids.completed }]);
    // 20261206000000_item_times: an item's time is epoch ms (the ISO text it was, to the
    // millisecond), and the item's own createdAt is gone.
    const times = (await db.exec(`SELECT "updatedAt" FROM "BatchJobItem"`)) as { updatedAt: unknown }[];
    expect(new Set(times.map((t) => Number(t.updatedAt)))).toEqual(new Set([NOW - 60_000]));
    const columns =
      TEST_BACKEND === 'sqlite'
        ? ((await db.exec(`SELECT "name" FROM pragma_table_info('BatchJobItem')`)) as { name: string }[])
        : ((await db.exec(
            `SELECT "column_name" AS "name" FROM information_schema.columns
             WHERE "table_schema" = current_schema() AND "table_name" = 'BatchJobItem'`,
          )) as { name: string }[]);
    expect(columns.map((c) => c.name)).not.toContain('createdAt');
    const retryIndex = (await db.exec(
      TEST_BACKEND === 'sqlite'
        ? `SELECT "name" FROM sqlite_master WHERE "type" = 'index' AND "name" = 'BatchJobItem_retry_idx'`
        : `SELECT "indexname" AS "name" FROM pg_indexes WHERE "schemaname" = current_schema() AND "indexname" = 'BatchJobItem_retry_idx'`,
    )) as { name: string }[];
    expect(retryIndex).toHaveLength(1);
  });

  it('serves the migrated batches as before and finishes the open ones', async () => {
    app = await givenApp({}, db);
    const sut = app;
    await givenBatchFeatureOn(sut);
    const owner = givenUser(sut, { userId: OWNER });

    const failedItems = await sut
      .http()
      .get(`/batches/${ids.withErrors}/items?status=failed`)
      .set(owner.auth);
    expect(failedItems.status).toBe(200);
    expect(failedItems.body.data).toMatchObject([
      {
        id: `${ids.withErrors}.0000001`,
        seq: 1,
        status: 'failed',
        error: 'boom',
        errorCategory: 'not_found',
      },
    ]);
    await sut.http().get(`/batches/${ids.storing}`).set(owner.auth).expect(404);

    // The dead worker's chunk is taken over, the due retry and the never-claimed item run.
    const processing = await waitForBatch(sut, owner, ids.processing);
    expect(processing).toMatchObject({ status: 'completed', succeededCount: 5, processedCount: 5 });
    expect(await waitForBatch(sut, owner, ids.pending)).toMatchObject({
      status: 'completed',
      succeededCount: 2,
    });

    // The paused batch resumes, including the item its pause gave back.
    await sut.http().post(`/batches/${ids.paused}/resume`).set(owner.auth).expect(202);
    expect(await waitForBatch(sut, owner, ids.paused)).toMatchObject({
      status: 'completed',
      succeededCount: 3,
    });

    // A retry of the failed item by its public id.
    await sut
      .http()
      .post(`/batches/${ids.withErrors}/retry`)
      .set(owner.auth)
      .send({ itemIds: [`${ids.withErrors}.0000001`] })
      .expect(202);
    expect(await waitForBatch(sut, owner, ids.withErrors)).toMatchObject({
      status: 'completed',
      succeededCount: 3,
      failedCount: 0,
    });
    const cancelled = await sut.http().get(`/batches/${ids.cancelled}`).set(owner.auth).expect(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancelledCount: 2, succeededCount: 1 });
    const completedItems = await sut
      .http()
      .get(`/batches/${ids.completed}/items`)
      .set(owner.auth)
      .expect(200);
    expect(completedItems.body.data.map((i: { id: string }) => i.id)).toEqual([
      `${ids.completed}.0000000`,
      `${ids.completed}.0000001`,
      `${ids.completed}.0000002`,
    ]);
    // Times read back as they were written before the migrations.
    expect(completedItems.body.data.map((i: { updatedAt: string }) => i.updatedAt)).toEqual(
      Array(3).fill(new Date(NOW - 60_000).toISOString()),
    );
  });
});
