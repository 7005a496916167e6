import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { createEngineDatabase, type OwnedEngineDatabase } from '../shared/database/engine-database';
import type { SqlExecutor } from '../shared/database/sql-executor';
import type { BatchRecord } from './batch.types';
import { runChunk } from './chunk-runner';
import type { ClaimedRow } from './chunk.repository';
import {
  type BatchOperationHandler,
  type ChunkItem,
  type OperationContext,
  PermanentItemError,
  RetryableItemError,
} from './operations/batch-operation';
import { OperationRegistry } from './operations/operation.registry';

const POSTGRES = process.env.TEST_BACKEND === 'postgres';
const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** Against a real database (a temp SQLite file, or the local PostgreSQL in the conformance run). */
describe(`${runChunk.name} (${POSTGRES ? 'postgres' : 'sqlite'})`, () => {
  let db: OwnedEngineDatabase;
  let dir: string;
  const table = `effects_${process.pid}_${randomUUID().slice(0, 8)}`;
  const registry = new OperationRegistry(null as never, null as never);
  const batch = {
    id: 'b1',
    operation: 'test.effects',
    options: { maxAttempts: 3 },
  } as unknown as BatchRecord;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chunk-runner-'));
    db = createEngineDatabase(POSTGRES ? POSTGRES_URL : `file:${path.join(dir, 'runner.db')}`);
    await db.execute(`CREATE TABLE "${table}" ("n" INTEGER PRIMARY KEY)`);
  });
  afterAll(async () => {
    await db.execute(`DROP TABLE IF EXISTS "${table}"`);
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const rows = (count: number, attempts = 1): ClaimedRow[] =>
    Array.from({ length: count }, (_, n) => ({ id: `b1.${n}`, seq: n, payload: { n }, attempts }));
  const context = (tx: SqlExecutor | null): OperationContext => ({
    batchId: batch.id,
    userId: 'u1',
    correlationId: 'c1',
    signal: new AbortController().signal,
    logger: null as never,
    tx,
    progress: () => undefined,
    hold: async () => undefined,
    heldUntil: async () => null,
    enterKey: async () => ({ release: async () => undefined }),
    now: () => 1_000_000,
  });
  /** Writes one row per item in the chunk's transaction, and throws `fail(item)` when it returns one. */
  const writer = (
    fail: (n: number) => Error | null,
    transactional = true,
  ): BatchOperationHandler<{ n: number }> => ({
    itemSchema: z.object({ n: z.number() }),
    transactional,
    async process(items: ChunkItem<{ n: number }>[], ctx) {
      for (const item of items) {
        await ctx.tx?.$executeRawUnsafe(
          `INSERT INTO "${table}" ("n") VALUES (${item.payload.n + 1000 * count})`,
        );
        const error = fail(item.payload.n);
        if (error) throw error;
      }
      return items.map((item) => ({
        ok: true,
        result: { n: item.payload.n, last: item.attempt === item.maxAttempts },
      }));
    },
  });
  let count = 0;
  const stored = async () =>
    (
      await db.query<{ n: number }[]>(
        `SELECT "n" FROM "${table}" WHERE "n" >= ${1000 * count} AND "n" < ${1000 * (count + 1)} ORDER BY "n"`,
      )
    ).map((r) => Number(r.n) - 1000 * count);
  beforeEach(() => (count += 1));

  it('fails the poison item of a transactional chunk of 100 alone; the other 99 commit exactly once', async () => {
    const handler = writer((n) =>
      n === 42 ? new PermanentItemError('item 42 is poison', 'poisoned') : null,
    );
    const run = await db.transaction((tx) => runChunk(registry, handler, batch, rows(100), context(tx)));
    expect(run.outcomes.filter((o) => o.ok)).toHaveLength(99);
    expect(run.outcomes[42]).toEqual({
      ok: false,
      error: 'item 42 is poison',
      permanent: true,
      errorCategory: 'poisoned',
    });
    expect(await stored()).toEqual(Array.from({ length: 100 }, (_, n) => n).filter((n) => n !== 42));
  });

  it('keeps a plain error retryable, and a RetryableItemError carries its retryAfterMs', async () => {
    const handler = writer((n) =>
      n === 1 ? new Error('flaky') : n === 2 ? new RetryableItemError('later', { retryAfterMs: 5000 }) : null,
    );
    const run = await db.transaction((tx) => runChunk(registry, handler, batch, rows(4), context(tx)));
    expect(run.outcomes.map((o) => (o.ok ? 'ok' : o))).toEqual([
      'ok',
      { ok: false, error: 'flaky', permanent: false },
      { ok: false, error: 'later', permanent: false, retryAfterMs: 5000, errorCategory: undefined },
      'ok',
    ]);
    expect(await stored()).toEqual([0, 3]);
  });

  it('tells each item its attempt and the last one, and never runs an item whose attempts are used up', async () => {
    const handler = writer(() => null);
    const items = [...rows(2, 3), { id: 'b1.9', seq: 9, payload: { n: 9 }, attempts: 4 }];
    const run = await db.transaction((tx) => runChunk(registry, handler, batch, items, context(tx)));
    expect(run.outcomes.slice(0, 2)).toEqual([
      { ok: true, result: { n: 0, last: true } },
      { ok: true, result: { n: 1, last: true } },
    ]);
    expect(run.outcomes[2]).toMatchObject({ ok: false, permanent: true, errorCategory: 'interrupted' });
    expect([...run.notRun]).toEqual([2]);
    expect(await stored()).toEqual([0, 1]);
  });

  it('fails every item of an outside chunk for good when the operation throws PermanentItemError', async () => {
    const handler = writer(() => new PermanentItemError('the account is closed', 'closed'), false);
    const run = await runChunk(registry, handler, batch, rows(3), context(null));
    expect(run.outcomes).toEqual(
      Array(3).fill({ ok: false, error: 'the account is closed', permanent: true, errorCategory: 'closed' }),
    );
  });
});
