import { z } from 'zod';
import { BatchStatus, ItemStatus } from './batch-status';

/** A batch row as the engine and the API see it (counts are exact at read time). */
export interface BatchRecord {
  /** The engine's own integer key (chunks and items point at it); never shown outside. */
  key: number;
  id: string;
  userId: string;
  operation: string;
  status: string;
  itemCount: number;
  processedCount: number;
  succeededCount: number;
  failedCount: number;
  cancelledCount: number;
  options: BatchOptions;
  metadata: unknown;
  correlationId: string;
  /** Rises with every committed change (orders live events). */
  eventSeq: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** The public representation (contract: Batch representation); the type and the OpenAPI schema come from it. */
export const batchViewSchema = z.object({
  id: z.string(),
  operation: z.string(),
  userId: z.string(),
  status: z.enum(BatchStatus),
  itemCount: z.number().int(),
  processedCount: z.number().int().describe('succeededCount + failedCount'),
  succeededCount: z.number().int(),
  failedCount: z.number().int(),
  cancelledCount: z.number().int(),
  percentage: z.number().int().min(0).max(100),
  options: z.object({
    chunkSize: z.number().int(),
    maxAttempts: z.number().int(),
    allowFailures: z.boolean(),
    keepOpenSeconds: z
      .number()
      .int()
      .optional()
      .describe(
        'Seconds after creation during which POST /batches/:id/items is taken, even once the batch has ended',
      ),
  }),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  correlationId: z.string(),
  createdAt: z.string().describe('ISO-8601 UTC'),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export type BatchView = Omit<z.infer<typeof batchViewSchema>, 'status' | 'metadata'> & {
  status: string;
  metadata: unknown;
};

export const itemViewSchema = z.object({
  id: z.string(),
  seq: z.number().int().describe('0-based position in the submitted array'),
  status: z.enum(ItemStatus),
  attempts: z.number().int(),
  error: z.string().nullable(),
  errorCategory: z
    .string()
    .nullable()
    .describe(
      'What kind of failure the error is (operation-defined, e.g. not_found, timeout); null: no error',
    ),
  retryable: z.boolean().nullable().describe('Whether retrying the error can help; null: no error'),
  result: z.unknown(),
  payload: z.record(z.string(), z.unknown()),
  stage: z.string().nullable().describe('The last stage an operation reported inside the item (null: none)'),
  progress: z.number().int().min(0).max(100),
  nextAttemptAt: z
    .string()
    .nullable()
    .describe(
      'When a queued item that failed, or was given back, is tried again at the earliest (null: now)',
    ),
  updatedAt: z.string(),
});

export const throughputSchema = z.object({
  from: z.string().describe('Start of the first bucket (the batch started, or was created)'),
  to: z.string().describe('End of the last bucket (the batch finished, or now)'),
  bucketMs: z.number().int(),
  buckets: z.array(
    z.object({
      at: z.string(),
      succeeded: z.number().int(),
      failed: z.number().int(),
      cancelled: z.number().int(),
    }),
  ),
});

export type ThroughputView = z.infer<typeof throughputSchema>;

export const failureGroupsSchema = z.object({
  data: z.array(
    z.object({
      error: z.string().nullable(),
      errorCategory: z.string().nullable(),
      retryable: z.boolean().describe('Whether retrying can help at least one item of the group'),
      count: z.number().int(),
      firstItemId: z.string(),
    }),
  ),
});

export type FailureGroupsView = z.infer<typeof failureGroupsSchema>;

export type ItemView = Omit<z.infer<typeof itemViewSchema>, 'status' | 'payload'> & {
  status: string;
  payload: unknown;
};

/** Share of the batch that is done (processed or cancelled), 0-100, reaching 100 only when all items are. */
export function percentageOf(
  b: Pick<BatchRecord, 'itemCount' | 'processedCount' | 'cancelledCount'>,
): number {
  if (b.itemCount === 0) return 100;
  return Math.floor(((b.processedCount + b.cancelledCount) * 100) / b.itemCount);
}

export function toBatchView(b: BatchRecord): BatchView {
  return {
    id: b.id,
    operation: b.operation,
    userId: b.userId,
    status: b.status,
    itemCount: b.itemCount,
    processedCount: b.processedCount,
    succeededCount: b.succeededCount,
    failedCount: b.failedCount,
    cancelledCount: b.cancelledCount,
    percentage: percentageOf(b),
    options: b.options,
    metadata: b.metadata ?? null,
    correlationId: b.correlationId,
    createdAt: b.createdAt.toISOString(),
    startedAt: b.startedAt?.toISOString() ?? null,
    finishedAt: b.finishedAt?.toISOString() ?? null,
  };
}

/** A batch's processing options (defaults filled in at creation). */
export interface BatchOptions {
  chunkSize: number;
  maxAttempts: number;
  allowFailures: boolean;
  /** Seconds after creation during which items may be appended, even once the batch has ended (it reopens). */
  keepOpenSeconds?: number;
}

/** Whether the batch still takes appended items at `now` (epoch ms): not cancelled, and not ended or still in its open window. */
export function takesItems(
  b: Pick<BatchRecord, 'status' | 'finishedAt' | 'createdAt' | 'options'>,
  now: number,
): boolean {
  if (b.status === 'cancelled') return false;
  if (b.finishedAt === null) return true;
  return now < b.createdAt.getTime() + (b.options.keepOpenSeconds ?? 0) * 1000;
}
