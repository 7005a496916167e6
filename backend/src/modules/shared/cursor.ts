import { AppException } from './errors/app-exception';

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

/** The latest instant a row of ours can carry: both databases store years 1 to 9999. */
const MAX_CURSOR_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** Ids we issue are UUIDs; anything much longer was not issued by us. */
const MAX_CURSOR_ID_LENGTH = 64;
/** Item positions are 32-bit integers in both schemas. */
const MAX_SEQ = 2 ** 31 - 1;

/**
 * A (createdAt, id) cursor exactly as `toPage` writes it: an ISO-8601 UTC time that
 * round-trips, between 1970 and 9999, and a short id. Anything else would reach the
 * database as an out-of-range value.
 */
export const isTimeCursor = (v: unknown): v is TimeCursor => {
  if (typeof v !== 'object' || v === null) return false;
  const { t, id } = v as Partial<TimeCursor>;
  if (typeof t !== 'string' || typeof id !== 'string' || id.length === 0 || id.length > MAX_CURSOR_ID_LENGTH)
    return false;
  const ms = Date.parse(t);
  return ms >= 0 && ms <= MAX_CURSOR_TIME && new Date(ms).toISOString() === t;
};

export type SeqCursor = { seq: number };

/** An item-position cursor: an integer from -1 (before the first item) to the largest position. */
export const isSeqCursor = (v: unknown): v is SeqCursor => {
  if (typeof v !== 'object' || v === null) return false;
  const { seq } = v as Partial<SeqCursor>;
  return Number.isSafeInteger(seq) && (seq as number) >= -1 && (seq as number) <= MAX_SEQ;
};

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
