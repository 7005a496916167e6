export type DialectName = 'sqlite' | 'postgres';

type JsonColumnType = 'text' | 'bigint' | 'int' | 'jsonb' | 'boolean';

/**
 * The SQL that differs between SQLite and PostgreSQL, in one place. Statements are
 * written with `?` placeholders; on PostgreSQL the executor numbers them ($1, $2 …).
 */
export interface SqlDialect {
  readonly name: DialectName;
  /** A FROM item with one row per object of a JSON-array parameter. */
  jsonRecords(alias: string, columns: [string, JsonColumnType][]): string;
  /** A subquery with the strings of a JSON-array parameter. */
  jsonStrings(): string;
  /** A subquery with the integers of a JSON-array parameter. */
  jsonInts(): string;
  /** An integer field of a JSON column. */
  jsonInt(column: string, field: string): string;
  /** True when a boolean field of a JSON column is false. */
  jsonIsFalse(column: string, field: string): string;
  /** A timestamp parameter (ISO-8601 text). */
  readonly ts: string;
  /**
   * A timestamp value in the text form the ORM writes, so raw writes and ORM
   * comparisons agree (SQLite compares DATETIME text lexicographically).
   */
  timestamp(at: number | Date): string;
  /** An integer parameter. */
  readonly int: string;
  /** A 64-bit integer parameter (epoch milliseconds). */
  readonly bigint: string;
  /** Appended to a claim's SELECT: skip rows another transaction holds. */
  readonly skipLocked: string;
  /** Appended to a SELECT that is followed by an update of the same row. */
  readonly forUpdate: string;
  /** True when the column's text (JSON included) contains the `?` parameter's text, ignoring case. */
  containsText(column: string): string;
}

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  jsonRecords: (alias, columns) =>
    `(SELECT ${columns
      .map(([c, type]) => `"value" ${type === 'jsonb' ? '->' : '->>'} '$.${c}' AS "${c}"`)
      .join(', ')} FROM json_each(?)) AS ${alias}`,
  jsonStrings: () => `SELECT "value" FROM json_each(?)`,
  jsonInts: () => `SELECT "value" FROM json_each(?)`,
  jsonInt: (column, field) => `json_extract(${column}, '$.${field}')`,
  jsonIsFalse: (column, field) => `json_extract(${column}, '$.${field}') = 0`,
  ts: '?',
  // The better-sqlite3 adapter writes `…T12:00:00.000+00:00`, not `…Z`.
  timestamp: (at) => new Date(at).toISOString().replace('Z', '+00:00'),
  int: '?',
  bigint: '?',
  skipLocked: '',
  // LIKE ignores ASCII case in SQLite; instr() would not.
  containsText: (column) => `CAST(${column} AS TEXT) LIKE '%' || ? || '%' ESCAPE '\\'`,
  // Write transactions are BEGIN IMMEDIATE: the database is already locked for writing.
  forUpdate: '',
};

const PG_TYPES: Record<JsonColumnType, string> = {
  text: 'text',
  bigint: 'bigint',
  int: 'int',
  jsonb: 'jsonb',
  boolean: 'boolean',
};

export const postgresDialect: SqlDialect = {
  name: 'postgres',
  jsonRecords: (alias, columns) =>
    `jsonb_to_recordset(?::jsonb) AS ${alias}(${columns.map(([c, type]) => `"${c}" ${PG_TYPES[type]}`).join(', ')})`,
  jsonStrings: () => `SELECT jsonb_array_elements_text(?::jsonb)`,
  jsonInts: () => `SELECT jsonb_array_elements_text(?::jsonb)::int`,
  jsonInt: (column, field) => `(${column}->>'${field}')::int`,
  jsonIsFalse: (column, field) => `(${column}->>'${field}')::boolean = false`,
  ts: '?::timestamp(3)',
  timestamp: (at) => new Date(at).toISOString(),
  int: '?::int',
  bigint: '?::bigint',
  skipLocked: ' FOR UPDATE SKIP LOCKED',
  containsText: (column) => `${column}::text ILIKE '%' || ? || '%' ESCAPE '\\'`,
  forUpdate: ' FOR UPDATE',
};

/**
 * The statements already numbered. The engine's statements are a few dozen texts run
 * thousands of times a second; numbering one anew built its text a character at a time
 * (~8 % of the engine's allocations on PostgreSQL, measured). Texts that vary (an IN
 * list's length) stay few; the cap only bounds a caller that builds texts without end.
 */
const numbered = new Map<string, string>();
const NUMBERED_MAX = 2_000;

/** Numbers `?` placeholders as $1, $2 … outside quoted strings and identifiers. */
export function numberPlaceholders(sql: string): string {
  const known = numbered.get(sql);
  if (known !== undefined) return known;
  if (numbered.size >= NUMBERED_MAX) numbered.clear();
  const text = numberedText(sql);
  numbered.set(sql, text);
  return text;
}

function numberedText(sql: string): string {
  const parts: string[] = [];
  let n = 0;
  let quote: string | null = null;
  let from = 0;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i];
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '?') {
      parts.push(sql.slice(from, i), `$${++n}`);
      from = i + 1;
    }
  }
  parts.push(sql.slice(from));
  return parts.join('');
}

/** `text` with LIKE's wildcards escaped (for `containsText`). */
export function likeEscaped(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
