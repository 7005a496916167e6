import type { EngineDatabase, RateLimiterPort } from '../shared/ports';
import type { RatePolicy } from '../shared/rate-limit/policy-rate-limiter';
import type { BatchCompleteEvent, BatchProgressEvent } from './batch-socket.events';
import type { ItemProgressEvent } from './batch-socket.events';

/** Engine settings; every field has a default (the standalone service maps them from its environment). */
export interface BatchSettings {
  /** Items per batch at most (413 BATCH_TOO_LARGE beyond). */
  maxBatchItems: number;
  /** Request body bytes at most on the module's routes (413 PAYLOAD_TOO_LARGE beyond), whatever the host's parser allows. */
  maxBodyBytes: number;
  /** Default items per chunk. */
  chunkSize: number;
  /** Pause between chunks of one worker. */
  chunkDelayMs: number;
  /** How long a claimed chunk is held before another worker may take it over. */
  leaseMs: number;
  /** Retry backoff base: base × 2^(attempt-1), ±20 %. */
  retryBaseMs: number;
  /** Upper bound of an outside server's Retry-After: for holds and for an item's next attempt. */
  maxRetryAfterMs: number;
  /** Upper bound of a batch's `keepOpenSeconds` (how long it takes appended items, ended or not). */
  maxOpenSeconds: number;
  retentionDays: number;
  /** Worker loops in this process (0: API only; 3 pays off on PostgreSQL, see docs/integrating.md). */
  workers: number;
  /** Idle wait between claims when nothing is due. */
  pollMs: number;
  /** At most one `batch-progress` per batch per interval. */
  progressIntervalMs: number;
}

export const DEFAULT_BATCH_SETTINGS: BatchSettings = {
  maxBatchItems: 10_000,
  maxBodyBytes: 10 * 1024 * 1024,
  chunkSize: 100,
  chunkDelayMs: 0,
  leaseMs: 30_000,
  retryBaseMs: 2000,
  maxRetryAfterMs: 3_600_000,
  maxOpenSeconds: 86_400,
  retentionDays: 30,
  workers: 1,
  pollMs: 200,
  progressIntervalMs: 250,
};

/**
 * Extra delivery of coalesced batch events, beside the module's own `/batches` Socket.io
 * namespace: a host forwards them to an existing gateway (e.g. `emitProgress`). Called on
 * every instance for the events it relays; deliver to this instance's sockets only.
 */
export interface BatchProgressPort {
  deliver(
    userId: string,
    event: BatchProgressEvent | BatchCompleteEvent,
    kind: 'progress' | 'complete',
  ): void;
  /** Progress reported inside an item (optional; e.g. a stage of a long download). */
  deliverItem?(userId: string, event: ItemProgressEvent): void;
}

/** How a host wires BatchModule. */
/** BatchModule's own settings (the host's ports go to BatchOpsCoreModule, once). */
export interface BatchModuleOptions {
  /** The engine's SQL access: the host's own connection (`createEngineDatabase(DATABASE_URL)`). */
  database: EngineDatabase;
  /**
   * Optional: the host's all-or-nothing limiter. Without it the module charges its
   * policies itself (PolicyRateLimiter: its `RateLimit` table, or Redis when given).
   */
  rateLimiter?: RateLimiterPort;
  /** The module's own limiter's policies, over DEFAULT_RATE_POLICIES (BATCH_OPERATIONS 10/h, ...). */
  rateLimits?: Record<string, RatePolicy>;
  progress?: BatchProgressPort;
  settings?: Partial<BatchSettings>;
  /** Registers `diagnostics.echo` (tests, benchmarks, smoke checks); off unless a host opts in. */
  diagnostics?: boolean;
}

export const BATCH_OPTIONS = Symbol('BATCH_OPTIONS');
export const BATCH_SETTINGS = Symbol('BATCH_SETTINGS');
