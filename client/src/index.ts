/**
 * The typed client of the batch operations API: every REST call of the contract, and live
 * batches over Socket.io (`watchBatch`, `watchBatches`). Types are generated from the
 * server's own schemas. React hooks: `@nest-batch-ops/client/react`.
 */
import { BatchHttpClient, type HttpOptions } from './http.js';
import {
  BatchLive,
  type BatchesWatchState,
  type BatchWatchState,
  type FlagRolloutEvent,
  type LiveOptions,
} from './live.js';

export * from './generated/api-types.js';
export {
  ApiError,
  BatchHttpClient,
  type HttpOptions,
  type Page,
  type TokenSource,
  type WriteOptions,
} from './http.js';
export type { BatchesWatchState, BatchWatchState, Connection, FlagRolloutEvent } from './live.js';

export type BatchClientOptions = HttpOptions & Omit<LiveOptions, 'token'>;

export class BatchClient extends BatchHttpClient {
  private readonly live: BatchLive;

  constructor(options: BatchClientOptions) {
    super(options);
    this.live = new BatchLive(this, options);
  }

  /** The batch, live: the subscribe snapshot, then every newer event; resubscribes and catches up after a drop or a restart. */
  watchBatch(id: string, listener: (state: BatchWatchState) => void): () => void {
    return this.live.watchBatch(id, listener);
  }

  /** The caller's batches (newest first), live, new ones included. */
  watchBatches(listener: (state: BatchesWatchState) => void): () => void {
    return this.live.watchBatches(listener);
  }

  /** Rollout plan transitions as they happen (admins only: other users' sockets never get them). */
  watchFlagRollouts(listener: (event: FlagRolloutEvent) => void): () => void {
    return this.live.watchFlagRollouts(listener);
  }

  batchState(id: string): BatchWatchState {
    return this.live.batchState(id);
  }

  batchesState(): BatchesWatchState {
    return this.live.listState();
  }

  /** Closes the socket (watches end). */
  close(): void {
    this.live.close();
  }
}
