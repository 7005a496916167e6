import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import Database from 'better-sqlite3';
import { JwtService } from '@nestjs/jwt';
import { DEV_JWT_SECRET } from '../../src/common/config/app-config';
import { echoItems } from '../support/factories';
import { itemId } from '../../src/modules/batch/batch-row.mapper';
import { enableBatchesOn, spawnServer, ServerProcess } from '../support/server-process';
import { givenTempDatabase, TempDatabase } from '../support/temp-database';

const jwt = new JwtService();
const tokenFor = (userId: string, roles: string[] = []) =>
  jwt.sign({ sub: userId, roles }, { secret: DEV_JWT_SECRET, expiresIn: 3600 });
const auth = (userId: string, roles: string[] = []) => ({
  Authorization: `Bearer ${tokenFor(userId, roles)}`,
});

async function submit(server: ServerProcess, userId: string, body: object): Promise<string> {
  const res = await request(server.baseUrl).post('/batches').set(auth(userId)).send(body);
  if (res.status !== 202) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

function readBatch(db: TempDatabase, id: string) {
  const sqlite = new Database(db.file, { readonly: true });
  try {
    sqlite.pragma('busy_timeout = 5000');
    return sqlite.prepare('SELECT * FROM "BatchOperation" WHERE "id" = ?').get(id) as Record<string, any>;
  } finally {
    sqlite.close();
  }
}

function query<T>(db: TempDatabase, sql: string, ...args: unknown[]): T[] {
  const sqlite = new Database(db.file, { readonly: true });
  try {
    sqlite.pragma('busy_timeout = 5000');
    return sqlite.prepare(sql).all(...args) as T[];
  } finally {
    sqlite.close();
  }
}

async function waitUntil(what: string, check: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const serverEnv = (db: TempDatabase, extra: Record<string, string> = {}) => ({
  DATABASE_URL: db.url,
  LOG_DIR: path.join(db.dir, 'logs'),
  BATCH_LEASE_MS: '1500',
  BATCH_POLL_MS: '20',
  MAX_BATCH_ITEMS: '20000',
  RATE_LIMIT_BATCH_OPERATIONS: '1000/3600',
  RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
  ...extra,
});

describe('Durability (real server processes)', () => {
  let db: TempDatabase;
  const servers: ServerProcess[] = [];

  beforeEach(() => {
    db = givenTempDatabase();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.crash()));
    await db.remove();
  });

  it('finishes a 20,000-item papers.import after three SIGKILLs at random points, every item exactly once', async () => {
    const env = serverEnv(db, { BATCH_CHUNK_DELAY_MS: '3' });
    let server = await spawnServer(env);
    servers.push(server);
    await enableBatchesOn(server);
    const distinctDois = 15_000;
    const items = Array.from({ length: 20_000 }, (_, i) => ({
      title: `Crash paper ${i}`,
      doi: `10.5555/crash-${i % distinctDois}`,
      year: 2001,
    }));
    const id = await submit(server, 'crash-user', {
      operation: 'papers.import',
      items,
      options: { chunkSize: 50 },
    });

    const marks = [0.1 + Math.random() * 0.15, 0.35 + Math.random() * 0.15, 0.6 + Math.random() * 0.2];
    for (const mark of marks) {
      await waitUntil(`progress ${mark}`, () => {
        const b = readBatch(db, id);
        return b.processedCount >= mark * 20_000 || b.finishedAt !== null;
      });
      await servers.pop()?.crash();
      expect(readBatch(db, id).finishedAt).toBeNull();
      server = await spawnServer(env);
      servers.push(server);
    }
    await waitUntil('completion', () => readBatch(db, id).finishedAt !== null);

    const batch = readBatch(db, id);
    expect(batch).toMatchObject({
      status: 'completed',
      processedCount: 20_000,
      succeededCount: 20_000,
      failedCount: 0,
      cancelledCount: 0,
    });
    const byStatus = query<{ status: string; n: number }>(
      db,
      'SELECT "status", COUNT(*) AS n FROM "BatchJobItem" WHERE "batchKey" = (SELECT "key" FROM "BatchOperation" WHERE "id" = ?) GROUP BY "status"',
      id,
    );
    expect(byStatus).toEqual([{ status: 'success', n: 20_000 }]);
    const [papers] = query<{ n: number; distinctDois: number }>(
      db,
      'SELECT COUNT(*) AS n, COUNT(DISTINCT "doi") AS distinctDois FROM "Paper" WHERE "userId" = ?',
      'crash-user',
    );
    expect(papers).toEqual({ n: distinctDois, distinctDois });
    const results = query<{ result: string }>(
      db,
      'SELECT "result" FROM "BatchJobItem" WHERE "batchKey" = (SELECT "key" FROM "BatchOperation" WHERE "id" = ?)',
      id,
    );
    const created = results.filter((r) => JSON.parse(r.result).created === true).length;
    // Each DOI was created exactly once across all crashes (its later duplicates updated it).
    expect(created).toBe(distinctDois);
  });

  it('shares one database file between three processes: every item handled once, and the small batch overtakes the large one', async () => {
    const logs = [0, 1, 2].map((i) => path.join(db.dir, `invocations-${i}.log`));
    for (const [i, log] of logs.entries()) {
      servers.push(
        await spawnServer(
          serverEnv(db, { ECHO_INVOCATION_LOG: log, BATCH_WORKERS: '1', PROCESS_NAME: `p${i}` }),
        ),
      );
    }
    await enableBatchesOn(servers[0]);
    const large = await submit(servers[0], 'user-large', {
      operation: 'diagnostics.echo',
      items: echoItems(5_000, { delayMs: 1 }),
      options: { chunkSize: 25 },
    });
    await waitUntil('large batch started', () => readBatch(db, large).processedCount > 0);
    const small = await submit(servers[1], 'user-small', {
      operation: 'diagnostics.echo',
      items: echoItems(20),
      options: { chunkSize: 10 },
    });
    await waitUntil(
      'both batches',
      () => readBatch(db, large).finishedAt !== null && readBatch(db, small).finishedAt !== null,
      120_000,
    );

    const [l, s] = [readBatch(db, large), readBatch(db, small)];
    expect(l).toMatchObject({ status: 'completed', succeededCount: 5_000 });
    expect(s).toMatchObject({ status: 'completed', succeededCount: 20 });
    expect(new Date(s.finishedAt).getTime()).toBeLessThan(new Date(l.finishedAt).getTime());

    const perProcess = logs.map((log) =>
      fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [],
    );
    const invocations = perProcess.flat().map((line) => line.split(' ')[0]);
    expect(invocations).toHaveLength(5_020);
    expect(new Set(invocations).size).toBe(5_020);
    expect(perProcess.filter((lines) => lines.length > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('retries transient failures in any of three processes: every attempt made exactly once, no lease left', async () => {
    const logs = [0, 1, 2].map((i) => path.join(db.dir, `retries-${i}.log`));
    for (const log of logs)
      servers.push(
        await spawnServer(
          serverEnv(db, { ECHO_INVOCATION_LOG: log, BATCH_WORKERS: '1', BATCH_RETRY_BASE_MS: '20' }),
        ),
      );
    await enableBatchesOn(servers[0]);
    // Every third item fails twice before it succeeds: its retries are claimed as runs behind
    // the batch's claimedSeq, by whichever process gets there first.
    const items = Array.from({ length: 900 }, (_, n) => (n % 3 === 0 ? { n, failTimes: 2 } : { n }));
    const id = await submit(servers[0], 'user-retries', {
      operation: 'diagnostics.echo',
      items,
      options: { chunkSize: 30, maxAttempts: 3 },
    });
    await waitUntil('retried batch', () => readBatch(db, id).finishedAt !== null, 120_000);
    expect(readBatch(db, id)).toMatchObject({ status: 'completed', succeededCount: 900, failedCount: 0 });

    const invocations = logs
      .flatMap((log) => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []))
      .filter(Boolean)
      .map((line) => line.split(' ')[0]);
    const perItem = new Map<string, number>();
    for (const itemId of invocations) perItem.set(itemId, (perItem.get(itemId) ?? 0) + 1);
    const rows = query<{ seq: number; attempts: number; status: string }>(
      db,
      `SELECT "seq", "attempts", "status" FROM "BatchJobItem" WHERE "batchKey" = (SELECT "key" FROM "BatchOperation" WHERE "id" = ?)`,
      id,
    );
    expect(rows).toHaveLength(900);
    for (const row of rows) {
      const expected = Number(row.seq) % 3 === 0 ? 3 : 1;
      expect([row.status, perItem.get(itemId(id, Number(row.seq))), Number(row.attempts)]).toEqual([
        'success',
        expected,
        expected,
      ]);
    }
    expect(invocations).toHaveLength(900 + 300 * 2);
    expect(query<{ n: number }>(db, `SELECT COUNT(*) AS n FROM "BatchChunk"`)[0].n).toBe(0);
  });

  it.each([
    ['items in flight', {}, 5],
    // The loops pause between chunks holding the chunk claimed ahead in the last record transaction.
    ['chunks claimed ahead', { BATCH_CHUNK_DELAY_MS: '300' }, 0],
  ])(
    'a restarted process finishes what a SIGTERMed one left (%s), with nothing stuck in processing',
    async (_, extra, delayMs) => {
      const env = serverEnv(db, extra);
      const first = await spawnServer(env);
      servers.push(first);
      await enableBatchesOn(first);
      const id = await submit(first, 'u-term', {
        operation: 'diagnostics.echo',
        items: echoItems(400, { delayMs }),
        options: { chunkSize: 20 },
      });
      await waitUntil('some progress', () => readBatch(db, id).processedCount >= 40);
      await servers.pop()?.stop();
      const after = readBatch(db, id);
      expect(after.finishedAt).toBeNull();
      // The stopped server recorded its chunks in flight and left no lease behind.
      const leased = query<{ n: number }>(
        db,
        `SELECT COUNT(*) AS n FROM "BatchChunk" WHERE "batchKey" = (SELECT "key" FROM "BatchOperation" WHERE "id" = ?)`,
        id,
      );
      expect(leased[0].n).toBe(0);
      servers.push(await spawnServer(env));
      await waitUntil('completion', () => readBatch(db, id).finishedAt !== null);
      expect(readBatch(db, id)).toMatchObject({ status: 'completed', succeededCount: 400 });
      // The stop spent no attempt: what was in flight (or claimed ahead) went back to the queue as it was.
      const attempts = query<{ attempts: number; n: number }>(
        db,
        `SELECT "attempts", COUNT(*) AS n FROM "BatchJobItem"
       WHERE "batchKey" = (SELECT "key" FROM "BatchOperation" WHERE "id" = ?) GROUP BY "attempts"`,
        id,
      );
      expect(attempts).toEqual([{ attempts: 1, n: 400 }]);
    },
  );
});
