import { Injectable, SetMetadata, applyDecorators } from '@nestjs/common';
import type { SqlExecutor } from '../../shared/database/sql-executor';
import type { z } from 'zod';
import type { ModuleLogger } from '../../shared/module-logger';

export interface ChunkItem<T> {
  id: string;
  seq: number;
  /** 1 on the first attempt. */
  attempt: number;
  /** The batch's `maxAttempts`: `attempt === maxAttempts` is the last try (a transient failure then fails for good). */
  maxAttempts: number;
  payload: T;
  /** Stable across attempts and processes: use it to make outside effects idempotent. */
  idempotencyKey: string;
}

export type ItemOutcome =
  | { ok: true; result: unknown }
  | {
      ok: false;
      error: string;
      permanent: boolean;
      /** Not before this long (a server's Retry-After, capped by the engine), whatever the backoff says. */
      retryAfterMs?: number;
      /**
       * The item did not run: it waits for a limit of the operation (a hold on its key).
       * It is queued again after `retryAfterMs` and the attempt is given back.
       */
      deferred?: boolean;
      /** What kind of failure (operation-defined, e.g. `not_found`, `timeout`); stored on the item. */
      errorCategory?: string;
    };

/**
 * Limits held across every process sharing the database: at most `concurrency` items of
 * the operation in flight, at most `rate.count` started per `rate.windowMs`. Items
 * waiting for a slot stay queued; they never fail or burn attempts because of a limit.
 */
export interface OperationLimits {
  concurrency: number;
  rate?: { count: number; windowMs: number };
}

export interface OperationContext {
  batchId: string;
  userId: string;
  correlationId: string;
  signal: AbortSignal;
  logger: ModuleLogger;
  /** The chunk's transaction, for operations with `transactional = true`; null otherwise. */
  tx: SqlExecutor | null;
  /**
   * Reports progress inside an item (`stage`, `percentage` 0-100, `message`): stored on the
   * item and sent to the owner's sockets watching the batch as `item-progress`, coalesced
   * per item per PROGRESS_INTERVAL_MS, the last state always sent.
   */
  progress(item: ChunkItem<unknown>, report: { stage: string; percentage: number; message?: string }): void;
  /**
   * Holds every call of this operation to `key` (e.g. a host that answered 429) until
   * `until` (epoch ms), in every process: no chunk of the operation is claimed before.
   */
  hold(key: string, until: number): Promise<void>;
  /** When the hold on `key` ends (epoch ms), or null when it is not held. */
  heldUntil(key: string): Promise<number | null>;
  /**
   * Takes one of `key`'s slots (per-key concurrency, and a start in its rate window), held
   * across every process with the chunk's lease: `release` gives it back (or the chunk's
   * end does). When the key has no free slot or start now, `busyForMs` says when to try
   * again (exact for a spent rate window; a short wait for a free slot): give the item back
   * (`deferred`, retrying after that) so that items of other keys go on.
   */
  enterKey(key: string, limits: OperationLimits): Promise<KeyEntry>;
  /** The engine's clock (epoch ms): tests move it; use it rather than `Date.now()`. */
  now(): number;
}

/** One slot of a per-key limit, or how long until one may be free. */
export type KeyEntry = { release(): Promise<void>; busyForMs?: undefined } | { busyForMs: number };

/** How soon an item waiting for a free slot (not a rate window) of its key tries again. */
export const KEY_SLOT_RETRY_MS = 100;

/**
 * A named bulk operation. Items are checked against `itemSchema` before `process`
 * sees them (invalid items fail for good). `process` returns one outcome per item, in
 * order. Transactional operations write their effects with `ctx.tx`, so effects, item
 * outcomes and counters commit together (exactly once); the others run outside any
 * transaction and are retried at least once per failure (use `idempotencyKey`).
 */
export interface BatchOperationHandler<T = unknown> {
  readonly itemSchema: z.ZodType<T>;
  readonly transactional: boolean;
  /** Shared limits for operations that call the outside world (optional). */
  readonly limits?: OperationLimits;
  /**
   * The most items one call of `process` may take (optional, 1…500; default: the batch's
   * `chunkSize`), for set-based operations that gain from larger calls. It applies to
   * batches that did not ask for a chunk size: their chunks lease up to 500 items of a fast
   * operation (see the README's *Chunk pace*). A transactional operation's chunk is always
   * one call, so its lease is at most this (or the chunk size): two calls in one
   * transaction could lock shared rows in an order another chunk's calls reverse.
   */
  readonly maxCallItems?: number;
  process(items: ChunkItem<T>[], ctx: OperationContext): Promise<ItemOutcome[]>;
}

export const BATCH_OPERATION_NAME = 'batch:operationName';

/** Registers a provider as the handler of `name`; discovered at start-up from any module. */
export const BatchOperation = (name: string) =>
  applyDecorators(Injectable(), SetMetadata(BATCH_OPERATION_NAME, name));

/**
 * Thrown by `process` when retrying cannot help: the item (every item of the chunk, when
 * thrown for the chunk) fails for good. `category` becomes the item's `errorCategory`.
 */
export class PermanentItemError extends Error {
  constructor(
    message: string,
    readonly category?: string,
  ) {
    super(message);
    this.name = 'PermanentItemError';
  }
}

/**
 * Thrown by `process` for a failure that may pass: the item is tried again after the
 * backoff, and not before `retryAfterMs` (capped by the engine). Any other thrown error
 * is retryable too, without a `retryAfterMs`.
 */
export class RetryableItemError extends Error {
  constructor(
    message: string,
    readonly options: { retryAfterMs?: number; category?: string } = {},
  ) {
    super(message);
    this.name = 'RetryableItemError';
  }
}

/** The outcome an error thrown by an operation means for its items. */
export function outcomeOfError(error: unknown): ItemOutcome {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof PermanentItemError)
    return { ok: false, error: message, permanent: true, errorCategory: error.category };
  if (error instanceof RetryableItemError)
    return {
      ok: false,
      error: message,
      permanent: false,
      retryAfterMs: error.options.retryAfterMs,
      errorCategory: error.options.category,
    };
  return { ok: false, error: message, permanent: false };
}
