/**
 * Whether an error means the database cannot be used right now (as opposed to a bug or a
 * bad statement): `unavailable` when the server cannot be reached or went away,
 * `busy` when a SQLite file stays locked past the busy timeout or its disk is full, or
 * PostgreSQL rolled the transaction back to break a deadlock.
 * Errors arrive in many wrappings (Prisma, its driver adapters, pg, better-sqlite3), so
 * this walks the `cause` chain and looks at codes, adapter kinds and messages.
 */
export type DatabaseFailure = 'unavailable' | 'busy';

const BUSY_CODES = new Set([
  'SQLITE_BUSY',
  'SQLITE_BUSY_SNAPSHOT',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  // PostgreSQL chose this transaction as a deadlock or serialization victim: it rolled back
  // whole, and trying again is the remedy (a worker repeats its chunk's transaction).
  '40P01',
  '40001',
]);
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  'P1001', // Prisma: can't reach database server
  'P1002',
  'P1008',
  'P1017', // Prisma: server closed the connection
  'P2024', // Prisma: timed out fetching a connection from the pool
]);
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'TooManyConnections']);
const UNAVAILABLE_TEXT =
  /connection terminated|terminating connection|timeout exceeded when trying to connect|connection timeout|the database system is (starting up|shutting down|in recovery mode)|can't reach database server|server has closed the connection|connect ECONNREFUSED|Connection refused|Client has encountered a connection error|Cannot use a pool after calling end/i;
const BUSY_TEXT = /database is locked|SQLITE_BUSY|database or disk is full/i;

/** True when `error` is a database outage or lock, whatever the back end. */
export function isDatabaseFailure(error: unknown): boolean {
  return databaseFailure(error, 'sqlite') !== null;
}

export function databaseFailure(error: unknown, dialect: 'sqlite' | 'postgres'): DatabaseFailure | null {
  // Every link of the chain is read before deciding, and busy wins: the ORM wraps the
  // SQLite adapter's busy answer (kind SocketTimeout) in P1008 "Operation has timed out",
  // which alone would read as an outage.
  let verdict: DatabaseFailure | null = null;
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== null && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const link = classifyLink(current, dialect);
    if (link === 'busy') return 'busy';
    verdict ??= link;
    const e = current as ErrorLink;
    current = e.cause ?? (e.meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError;
  }
  return verdict;
}

interface ErrorLink {
  code?: unknown;
  kind?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: unknown;
}

function classifyLink(e: ErrorLink, dialect: 'sqlite' | 'postgres'): DatabaseFailure | null {
  const code = typeof e.code === 'string' ? e.code : undefined;
  const kind = typeof e.kind === 'string' ? e.kind : undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  if ((code && BUSY_CODES.has(code)) || BUSY_TEXT.test(message)) return 'busy';
  // The SQLite adapter reports SQLITE_BUSY as a "SocketTimeout", and the ORM's timeouts on
  // an embedded file can only be waits for its write lock.
  if (kind === 'SocketTimeout' || code === 'P1008') return dialect === 'sqlite' ? 'busy' : 'unavailable';
  if ((code && UNAVAILABLE_CODES.has(code)) || (kind && UNAVAILABLE_KINDS.has(kind))) return 'unavailable';
  if (code?.startsWith('08')) return 'unavailable'; // PostgreSQL connection exceptions
  if (UNAVAILABLE_TEXT.test(message)) return 'unavailable';
  return null;
}
