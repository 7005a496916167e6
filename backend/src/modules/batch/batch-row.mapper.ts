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
    key: Number(row.key),
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

/** An item's public id: `<batch id>.<position, at least 7 digits>` (ids sort by position). */
export function itemId(batchId: string, seq: number): string {
  return `${batchId}.${String(seq).padStart(7, '0')}`;
}

/** The position an item id of this batch names; null for an id of another batch or no item id at all. */
export function seqOfItemId(batchId: string, id: string): number | null {
  if (!id.startsWith(`${batchId}.`)) return null;
  const digits = id.slice(batchId.length + 1);
  if (!/^\d{7,10}$/.test(digits)) return null;
  const seq = Number(digits);
  // Only the canonical spelling names an item (`00000001` does not name position 1).
  return seq <= 2_147_483_647 && itemId(batchId, seq) === id ? seq : null;
}
