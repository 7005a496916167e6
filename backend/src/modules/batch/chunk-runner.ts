import type { SqlExecutor } from '../shared/database/sql-executor';
import { isDatabaseFailure } from '../shared/errors/database-failure';
import type { BatchRecord } from './batch.types';
import type { ClaimedRow } from './chunk.repository';
import {
  type BatchOperationHandler,
  type ChunkItem,
  type ItemOutcome,
  type OperationContext,
  outcomeOfError,
} from './operations/batch-operation';
import type { OperationRegistry } from './operations/operation.registry';

/** The error category of an item that failed its operation's item schema. */
export const INVALID_ITEM = 'invalid_item';

/** What running a chunk's items gave: one outcome per item, and the items whose claim must not count as an attempt. */
export interface ChunkRun {
  outcomes: ItemOutcome[];
  /** Indexes of items that did not run because their attempts were already used up. */
  notRun: Set<number>;
}

/**
 * Runs a claimed chunk's items through their operation: items that do not match its
 * schema fail for good; items whose attempts were used up by processes that died under
 * them fail for good without running again (attempts count when they start); the rest
 * run. What the handler throws is mapped by `outcomeOfError`. A transactional operation
 * that throws does not take its chunk down: its partial effects are rolled back to a
 * savepoint, and the chunk runs again item by item, each in a savepoint of its own, so a
 * poison item fails alone and the others commit exactly once.
 */
export async function runChunk(
  registry: OperationRegistry,
  handler: BatchOperationHandler | undefined,
  batch: BatchRecord,
  items: ClaimedRow[],
  ctx: OperationContext,
): Promise<ChunkRun> {
  const notRun = new Set<number>();
  if (!handler) {
    const outcome: ItemOutcome = {
      ok: false,
      error: `Unknown operation ${batch.operation}`,
      permanent: true,
      errorCategory: 'unknown_operation',
    };
    return { outcomes: items.map(() => outcome), notRun };
  }
  const { maxAttempts } = batch.options;
  const outcomes: (ItemOutcome | undefined)[] = new Array(items.length);
  const runnable: ChunkItem<unknown>[] = [];
  const runnableIndex: number[] = [];
  items.forEach((item, index) => {
    if (item.attempts > maxAttempts) {
      // The claim counted an attempt for every time a process died running it.
      notRun.add(index);
      outcomes[index] = {
        ok: false,
        error: `Attempts used up: the process running it stopped ${maxAttempts === 1 ? 'once' : `${maxAttempts} times`} before an outcome was recorded`,
        permanent: true,
        errorCategory: 'interrupted',
      };
      return;
    }
    const check = registry.check(handler, item.payload);
    if (!check.ok) {
      outcomes[index] = {
        ok: false,
        error: check.errors.join('; '),
        permanent: true,
        errorCategory: INVALID_ITEM,
      };
      return;
    }
    runnable.push({
      id: item.id,
      seq: item.seq,
      attempt: item.attempts,
      maxAttempts,
      payload: check.value,
      idempotencyKey: `${batch.id}:${item.seq}`,
    });
    runnableIndex.push(index);
  });
  if (runnable.length > 0) {
    const results = ctx.tx
      ? await inSavepoints(handler, runnable, ctx, ctx.tx)
      : await process(handler, runnable, ctx).catch((error: unknown) =>
          runnable.map(() => outcomeOfError(error)),
        );
    runnableIndex.forEach((index, k) => (outcomes[index] = results[k]));
  }
  return { outcomes: outcomes as ItemOutcome[], notRun };
}

/** The handler's outcomes, refusing an answer of the wrong length. */
async function process(
  handler: BatchOperationHandler,
  items: ChunkItem<unknown>[],
  ctx: OperationContext,
): Promise<ItemOutcome[]> {
  const results = await handler.process(items, ctx);
  if (!Array.isArray(results) || results.length !== items.length)
    throw new Error(
      `The operation returned ${Array.isArray(results) ? results.length : 'no'} outcomes for ${items.length} items`,
    );
  return results;
}

/**
 * The whole chunk in one savepoint first (the common case: one extra statement); when the
 * operation throws, its effects are rolled back to it and each item runs alone in its own.
 * A database failure is rethrown: the worker repeats the whole transaction.
 */
async function inSavepoints(
  handler: BatchOperationHandler,
  items: ChunkItem<unknown>[],
  ctx: OperationContext,
  tx: SqlExecutor,
): Promise<ItemOutcome[]> {
  let failure: unknown;
  try {
    return await savepoint(tx, 'batch_chunk', () => process(handler, items, ctx));
  } catch (error) {
    if (isDatabaseFailure(error)) throw error;
    failure = error;
  }
  if (items.length === 1) return [outcomeOfError(failure)];
  const outcomes: ItemOutcome[] = [];
  for (const item of items) {
    try {
      outcomes.push(...(await savepoint(tx, 'batch_item', () => process(handler, [item], ctx))));
    } catch (error) {
      if (isDatabaseFailure(error)) throw error;
      outcomes.push(outcomeOfError(error));
    }
  }
  return outcomes;
}

async function savepoint<T>(tx: SqlExecutor, name: string, work: () => Promise<T>): Promise<T> {
  await tx.$executeRawUnsafe(`SAVEPOINT ${name}`);
  try {
    const result = await work();
    await tx.$executeRawUnsafe(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (error) {
    if (!isDatabaseFailure(error)) {
      await tx.$executeRawUnsafe(`ROLLBACK TO SAVEPOINT ${name}`);
      await tx.$executeRawUnsafe(`RELEASE SAVEPOINT ${name}`);
    }
    throw error;
  }
}
