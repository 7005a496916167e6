import type { BatchOptions } from './batch-status';

/** A batch row as the engine and the API see it (counts are exact at read time). */
export interface BatchRecord {
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

/** The public representation (contract: Batch representation). */
export interface BatchView {
  id: string;
  operation: string;
  userId: string;
  status: string;
  itemCount: number;
  processedCount: number;
  succeededCount: number;
  failedCount: number;
  cancelledCount: number;
  percentage: number;
  options: BatchOptions;
  metadata: unknown;
  correlationId: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface ItemView {
  id: string;
  seq: number;
  status: string;
  attempts: number;
  error: string | null;
  result: unknown;
  payload: unknown;
  /** The last stage an operation reported inside the item (null: none reported). */
  stage: string | null;
  /** 0-100: the last progress reported inside the item (100 once settled). */
  progress: number;
  updatedAt: string;
}

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
