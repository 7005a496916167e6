import type { SqlDialect } from './database/sql-dialect';
import type { SqlExecutor } from './database/sql-executor';
import type { PolicyState } from './rate-limit-headers';

/*
 * The small interfaces the batch and feature-flag modules need from their host. The
 * standalone service binds them to backend/src/common; a monolith binds its own logger,
 * correlation context, limiter, authentication and database (docs/integrating.md).
 */

/** Structured logging: a Nest `LoggerService`-compatible subset whose last argument is metadata. */
export interface LoggerPort {
  log(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  debug?(message: string, fields?: Record<string, unknown>): void;
}

export interface ContextStore {
  correlationId: string;
  userId?: string;
  batchId?: string;
}

/** The host's request context (AsyncLocalStorage): read the correlation id, run work inside a context. */
export interface RequestContextPort {
  correlationId(): string | undefined;
  run<T>(store: ContextStore, fn: () => T): T;
}

/** Who is calling, as the modules see it. */
export interface ModuleUser {
  userId: string;
  roles: readonly string[];
  /** Token expiry in epoch seconds: sockets are disconnected then. */
  exp?: number;
}

export const ADMIN_ROLE = 'admin';

export function isAdmin(user: ModuleUser): boolean {
  return user.roles.includes(ADMIN_ROLE);
}

/**
 * The port with the host's role names mapped: a user with any of `adminRoles` (e.g. the
 * host's `ADMIN`) is the modules' admin.
 */
export function withAdminRoles(auth: AuthPort, adminRoles: readonly string[]): AuthPort {
  const map = (user: ModuleUser | null): ModuleUser | null =>
    user && !isAdmin(user) && user.roles.some((role) => adminRoles.includes(role))
      ? { ...user, roles: [...user.roles, ADMIN_ROLE] }
      : user;
  return {
    authenticate: async (request) => map(await auth.authenticate(request)),
    authenticateSocket: async (handshake) => map(await auth.authenticateSocket(handshake)),
  };
}

export interface SocketHandshake {
  auth: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  address: string;
}

/**
 * The host's authentication, asked by the modules themselves on every module route and
 * socket handshake (a host's guards may be per controller and never run on module
 * routes). Both may be asynchronous, e.g. to read the user's role from the host's table.
 */
export interface AuthPort {
  /** The user of an HTTP request (verify its credentials, e.g. the bearer token), or null. */
  authenticate(request: unknown): ModuleUser | null | Promise<ModuleUser | null>;
  /** The user of a Socket.io handshake (e.g. a bearer token in `auth.token`), or null. */
  authenticateSocket(handshake: SocketHandshake): Promise<ModuleUser | null>;
}

export interface RateCharge {
  policy: string;
  cost: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Every charged policy after the attempt (what the headers describe). */
  states: PolicyState[];
  /** The policies that refused; empty when allowed. */
  violated: PolicyState[];
}

/** Check-and-charge, all policies or none, shared by every process. */
export interface RateLimiterPort {
  consume(key: string, charges: RateCharge[]): Promise<RateDecision>;
}

/**
 * The engine's own SQL access: set-based statements with `?` placeholders in short
 * write transactions (BEGIN IMMEDIATE on SQLite). See `createEngineDatabase`.
 */
export interface EngineDatabase {
  readonly dialect: SqlDialect;
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  query<T>(sql: string, ...args: unknown[]): Promise<T>;
  execute(sql: string, ...args: unknown[]): Promise<number>;
  /** Called by BatchModule at shutdown, after its workers stopped (a connection it owns). */
  close?(): Promise<void>;
}

/** The modules' metric names, with their labels (low cardinality: never a batch or user id). */
/** The engine's phases (see `batch_engine_seconds_total`). */
export type EnginePhase = 'storing' | 'claiming' | 'running' | 'recording' | 'committing' | 'yielding';

export interface ModuleMetrics {
  /** Items whose outcome a chunk recorded. */
  batch_items_settled_total: { operation: string; outcome: 'success' | 'failed' | 'retried' };
  /** Seconds from claim to recorded outcome of a chunk. */
  batch_chunk_duration_seconds: { operation: string };
  /**
   * Where the engine's time goes, in seconds: storing items (POST), claiming chunks,
   * running operations, recording outcomes, and committing (BEGIN and COMMIT of the
   * outcome's transaction); `yielding` is the time loops beyond the first stood aside
   * while the batch API answered. Summed over all worker loops of the process.
   */
  batch_engine_seconds_total: { phase: EnginePhase };
  /** Outcomes not written because the chunk's lease had passed to another worker. */
  batch_lease_lost_items_total: { operation: string };
  /**
   * A chunk's transaction tried again because the database was `busy` (a lock held past the
   * busy timeout, a PostgreSQL deadlock or serialization victim) or `unavailable`.
   */
  batch_transaction_retries_total: { failure: 'busy' | 'unavailable' };
  /** Flag evaluations. */
  feature_flag_evaluations_total: { flag: string; reason: string };
  /** 429 answers of module routes, by the policy that refused. */
  rate_limit_refusals_total: { policy: string };
  /** Sockets open on the /batches namespace of this process. */
  batch_socket_connections: Record<string, never>;
}

/** Optional: where the modules report what they count (e.g. prom-client in the host). */
export interface MetricsPort {
  increment<K extends keyof ModuleMetrics>(name: K, labels: ModuleMetrics[K], value?: number): void;
  observe<K extends keyof ModuleMetrics>(name: K, labels: ModuleMetrics[K], value: number): void;
}

export const LOGGER_PORT = Symbol('LOGGER_PORT');
export const REQUEST_CONTEXT_PORT = Symbol('REQUEST_CONTEXT_PORT');
export const AUTH_PORT = Symbol('AUTH_PORT');
export const RATE_LIMITER_PORT = Symbol('RATE_LIMITER_PORT');
export const ENGINE_DATABASE = Symbol('ENGINE_DATABASE');
/** The host's Prisma client (with the modules' models in its schema). */
export const PRISMA_CLIENT = Symbol('PRISMA_CLIENT');
/** An ioredis connection, or null: shared flag invalidation and event fan-out. */
export const REDIS_CONNECTION = Symbol('REDIS_CONNECTION');
export const METRICS_PORT = Symbol('METRICS_PORT');
/** Prefix of the Redis channels and keys the modules use (default `nbo:`). */
export const REDIS_KEY_PREFIX = Symbol('REDIS_KEY_PREFIX');

/** What a module uses when the host gave no metrics port. */
export const NO_METRICS: MetricsPort = { increment: () => undefined, observe: () => undefined };
