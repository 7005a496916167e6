import { AppException } from '../errors/app-exception';

/** Opaque keyset cursors: base64url of a small JSON value. A tampered cursor is a 400, never a 500. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string, isValid: (value: unknown) => value is T): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isValid(value)) return value;
  } catch {
    // fall through to the validation error
  }
  throw AppException.validation('cursor is not valid', { errors: ['cursor is not valid'] });
}

export type TimeCursor = { t: string; id: string };

export const isTimeCursor = (v: unknown): v is TimeCursor =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as TimeCursor).t === 'string' &&
  typeof (v as TimeCursor).id === 'string' &&
  !Number.isNaN(Date.parse((v as TimeCursor).t));

/**
 * Keyset filter and order for "newest first" lists on (createdAt, id): rows strictly
 * after the cursor's row, so pages never repeat or skip rows that tie on createdAt.
 */
export function newestFirstAfter(after?: { createdAt: Date; id: string }) {
  return {
    where: after
      ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }
      : {},
    orderBy: [{ createdAt: 'desc' as const }, { id: 'desc' as const }],
  };
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** Splits `limit + 1` fetched rows into a page and the cursor of its last row. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  cursorOf: (row: R) => unknown,
): Page<T> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  return {
    data: pageRows.map(map),
    nextCursor: hasMore ? encodeCursor(cursorOf(pageRows[pageRows.length - 1])) : null,
  };
}
