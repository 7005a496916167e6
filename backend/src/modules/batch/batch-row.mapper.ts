import type { BatchOptions } from './batch.types';
import type { BatchRecord } from './batch.types';

/** SQLite DATETIME text is either ISO-8601 (written by Prisma) or `YYYY-MM-DD HH:MM:SS` (CURRENT_TIMESTAMP), both UTC. */
export function parseDbDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value));
  if (typeof value !== 'string') return null;
  const text = value;
  return new Date(text.includes('T') ? text : `${text.replace(' ', 'T')}Z`);
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  return JSON.parse(value);
}

/** Maps a raw `RETURNING *` / `SELECT *` row of BatchOperation (BigInt integers, JSON text) to a record. */
export function rowToBatch(row: Record<string, unknown>): BatchRecord {
  return {
    id: String(row.id),
    userId: String(row.userId),
    operation: String(row.operation),
    status: String(row.status),
    itemCount: Number(row.itemCount),
    processedCount: Number(row.processedCount),
    succeededCount: Number(row.succeededCount),
    failedCount: Number(row.failedCount),
    cancelledCount: Number(row.cancelledCount),
    options: parseJson(row.options) as BatchOptions,
    metadata: parseJson(row.metadata),
    correlationId: String(row.correlationId),
    eventSeq: Number(row.eventSeq ?? 0),
    createdAt: parseDbDate(row.createdAt) as Date,
    startedAt: parseDbDate(row.startedAt),
    finishedAt: parseDbDate(row.finishedAt),
  };
}
