import { io, type Socket } from 'socket.io-client';
import type { BatchView, RolloutPlanView } from './generated/api-types.js';
import { ApiError, type BatchHttpClient, type TokenSource, tokenOf } from './http.js';

/** How fresh what a watch shows is. */
export interface Connection {
  /** live: subscribed and caught up; reconnecting: the link is down, the data is as of `staleSince`; unauthorized: the token was refused. */
  state: 'connecting' | 'live' | 'reconnecting' | 'unauthorized';
  /** Epoch ms since when the shown data may be out of date (null while live). */
  staleSince: number | null;
}

export interface BatchWatchState {
  batch: BatchView | null;
  /** The batch's event number of what is shown: events at or below it are dropped. */
  seq: number;
  connection: Connection;
  /** Why there is no batch (NOT_FOUND, FEATURE_DISABLED, ...). */
  error: ApiError | null;
}

export interface BatchesWatchState {
  /** Newest first. */
  batches: BatchView[];
  connection: Connection;
  error: ApiError | null;
}

/** What `batch-progress` and `batch-complete` carry (contract: the batch's counters and status at `seq`). */
interface BatchEvent {
  batchId: string;
  seq: number;
  status: BatchView['status'];
  percentage: number;
  itemCount: number;
  processedCount: number;
  succeededCount: number;
  failedCount: number;
  cancelledCount?: number;
  finishedAt?: string | null;
}

type Ack =
  { ok: true; batch: BatchView; seq: number } | { ok: false; error: { code: string; message?: string } };

/** `flag-rollout`, sent to admins' sockets at every transition of a rollout plan (contract v3). */
export interface FlagRolloutEvent {
  flag: string;
  /** 0-based step the plan is at after the transition. */
  step: number;
  rollout: number;
  action: 'advanced' | 'rolled_back' | 'halted' | 'completed';
  /** The guard values that decided it. */
  guards: NonNullable<RolloutPlanView['history'][number]['guards']>;
  at: string;
  reason?: string;
}

export interface LiveOptions {
  token: TokenSource;
  /** Socket.io's path on the server (default `/socket.io`). */
  socketPath?: string;
  /** Longest wait between reconnection attempts (default 5,000 ms); the first is after 250 ms. */
  reconnectionDelayMax?: number;
}

interface Tracked {
  batch: BatchView | null;
  seq: number;
  error: ApiError | null;
}

/**
 * Live batches over the `/batches` Socket.io namespace: one socket per client, opened on
 * the first watch. A watch starts from the subscribe ack's snapshot and applies only
 * events with a higher `seq`, so nothing is shown twice, out of order or going backwards;
 * after a network drop or a server restart the socket reconnects with backoff, subscribes
 * again and catches up from the new snapshot, while the state says since when the data
 * is stale.
 */
export class BatchLive {
  private socket: Socket | null = null;
  private connection: Connection = { state: 'connecting', staleSince: null };
  private readonly tracked = new Map<string, Tracked>();
  private readonly batchWatchers = new Map<string, Set<(s: BatchWatchState) => void>>();
  private readonly listWatchers = new Set<(s: BatchesWatchState) => void>();
  private readonly rolloutWatchers = new Set<(e: FlagRolloutEvent) => void>();
  private listed: string[] = [];
  private listError: ApiError | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly http: BatchHttpClient,
    private readonly options: LiveOptions,
  ) {}

  /** Calls `listener` with the batch's state now and at every change; returns the unsubscribe. */
  watchBatch(id: string, listener: (state: BatchWatchState) => void): () => void {
    let set = this.batchWatchers.get(id);
    if (!set) this.batchWatchers.set(id, (set = new Set()));
    set.add(listener);
    const socket = this.open();
    // One subscribe per batch and connection: a batch whose snapshot this socket already took
    // (another watch's, or the list's) gets its events here. One without a snapshot yet is
    // subscribed to again: an earlier answer may have been NOT_FOUND for a batch just created.
    const followed = (this.tracked.get(id)?.seq ?? -1) >= 0;
    if (socket.connected && !followed) void this.subscribe(id);
    listener(this.batchState(id));
    return () => {
      set.delete(listener);
      if (set.size === 0) {
        this.batchWatchers.delete(id);
        if (!this.listed.includes(id)) {
          this.tracked.delete(id);
          if (socket.connected) socket.emit('unsubscribe', { batchId: id }, () => undefined);
        }
      }
      this.closeWhenUnused();
    };
  }

  /** Calls `listener` with the caller's batches (the first page, newest first, and every batch created since). */
  watchBatches(listener: (state: BatchesWatchState) => void): () => void {
    this.listWatchers.add(listener);
    const socket = this.open();
    if (socket.connected) void this.loadList();
    listener(this.listState());
    return () => {
      this.listWatchers.delete(listener);
      this.closeWhenUnused();
    };
  }

  /** Calls `listener` with every rollout plan transition (admins' sockets only get them); returns the unsubscribe. */
  watchFlagRollouts(listener: (event: FlagRolloutEvent) => void): () => void {
    this.rolloutWatchers.add(listener);
    this.open();
    return () => {
      this.rolloutWatchers.delete(listener);
      this.closeWhenUnused();
    };
  }

  /** The state a watch of `id` shows now. */
  batchState(id: string): BatchWatchState {
    const t = this.tracked.get(id);
    return {
      batch: t?.batch ?? null,
      seq: t?.seq ?? -1,
      connection: this.connection,
      error: t?.error ?? null,
    };
  }

  listState(): BatchesWatchState {
    const batches = this.listed.map((id) => this.tracked.get(id)?.batch).filter((b): b is BatchView => !!b);
    return { batches, connection: this.connection, error: this.listError };
  }

  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.removeAllListeners();
    this.socket?.close();
    this.socket = null;
  }

  private closeWhenUnused(): void {
    if (this.batchWatchers.size === 0 && this.listWatchers.size === 0 && this.rolloutWatchers.size === 0) {
      this.close();
      this.tracked.clear();
      this.listed = [];
      this.connection = { state: 'connecting', staleSince: null };
    }
  }

  private open(): Socket {
    if (this.socket) return this.socket;
    const url = new URL(this.http.baseUrl);
    const socket = io(`${url.origin}/batches`, {
      path: this.options.socketPath ?? '/socket.io',
      // A fresh token at every (re)connection: a refreshed token is used after a restart.
      auth: (cb) => void tokenOf(this.options.token).then((token) => cb({ token })),
      transports: ['websocket'],
      reconnectionDelay: 250,
      reconnectionDelayMax: this.options.reconnectionDelayMax ?? 5000,
    });
    this.socket = socket;
    socket.on('connect', () => void this.catchUp());
    socket.on('disconnect', () => this.setConnection('reconnecting'));
    socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
      if (error.data?.code === 'UNAUTHENTICATED') {
        this.setConnection('unauthorized');
        // The server refused the token: socket.io does not retry that by itself. Try again later
        // (the token source may have a new token by then).
        this.retryTimer = setTimeout(() => socket.connect(), this.options.reconnectionDelayMax ?? 5000);
      } else if (this.connection.state === 'live') {
        this.setConnection('reconnecting');
      }
    });
    socket.on('batch-progress', (event: BatchEvent) => this.apply(event));
    socket.on('batch-complete', (event: BatchEvent) => this.apply(event));
    socket.on('flag-rollout', (event: FlagRolloutEvent) => this.rolloutWatchers.forEach((l) => l(event)));
    return socket;
  }

  /** After every (re)connection: the list again, every watched batch's snapshot again, then live. */
  private async catchUp(): Promise<void> {
    if (this.listWatchers.size > 0) await this.loadList();
    await Promise.all([...this.batchWatchers.keys()].map((id) => this.subscribe(id)));
    if (this.socket?.connected) this.setConnection('live');
  }

  private async loadList(): Promise<void> {
    try {
      const page = await this.http.listBatches({ limit: 20 });
      this.listError = null;
      const known = new Set(this.listed);
      this.listed = [
        ...page.data.map((b) => b.id),
        ...this.listed.filter((id) => !page.data.some((b) => b.id === id)),
      ];
      // Each listed batch is subscribed to: its ack gives a snapshot with its seq (a REST read has none).
      for (const batch of page.data) {
        if (!this.tracked.has(batch.id)) this.tracked.set(batch.id, { batch, seq: -1, error: null });
        if (!known.has(batch.id) || this.socket?.connected) void this.subscribe(batch.id);
      }
    } catch (error) {
      this.listError = error instanceof ApiError ? error : new ApiError(0, { message: String(error) }, null);
    }
    this.notifyList();
  }

  private subscribe(id: string): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => {
      socket.timeout(10_000).emit('subscribe', { batchId: id }, (err: Error | null, ack: Ack | undefined) => {
        if (!err && ack) {
          if (ack.ok) this.take(id, ack.batch, ack.seq);
          else
            this.fail(
              id,
              new ApiError(
                ack.error.code === 'NOT_FOUND' ? 404 : 403,
                { code: ack.error.code, message: ack.error.message ?? ack.error.code },
                null,
              ),
            );
        }
        resolve();
      });
    });
  }

  /** A snapshot: taken only when it is newer than what is shown. */
  private take(id: string, batch: BatchView, seq: number): void {
    const t = this.tracked.get(id);
    if (t && t.batch && seq <= t.seq) return;
    this.tracked.set(id, { batch, seq, error: null });
    this.notify(id);
  }

  private fail(id: string, error: ApiError): void {
    this.tracked.set(id, {
      batch: this.tracked.get(id)?.batch ?? null,
      seq: this.tracked.get(id)?.seq ?? -1,
      error,
    });
    this.notify(id);
  }

  /** An event: applied only when its `seq` is higher than what is shown. */
  private apply(event: BatchEvent): void {
    const t = this.tracked.get(event.batchId);
    if (!t?.batch) {
      // A batch this client did not know yet (created in another tab): its snapshot first.
      if (this.listWatchers.size > 0 && !this.listed.includes(event.batchId)) {
        this.listed = [event.batchId, ...this.listed];
        void this.subscribe(event.batchId).then(() => this.notifyList());
      }
      return;
    }
    if (event.seq <= t.seq) return;
    t.seq = event.seq;
    t.batch = {
      ...t.batch,
      status: event.status,
      percentage: event.percentage,
      itemCount: event.itemCount,
      processedCount: event.processedCount,
      succeededCount: event.succeededCount,
      failedCount: event.failedCount,
      cancelledCount: event.cancelledCount ?? t.batch.cancelledCount,
      finishedAt: event.finishedAt !== undefined ? event.finishedAt : t.batch.finishedAt,
    };
    this.notify(event.batchId);
  }

  private setConnection(state: Connection['state']): void {
    if (this.connection.state === state) return;
    const staleSince =
      state === 'live' ? null : (this.connection.staleSince ?? (state === 'connecting' ? null : Date.now()));
    this.connection = { state, staleSince };
    for (const id of this.batchWatchers.keys()) this.notify(id);
    this.notifyList();
  }

  private notify(id: string): void {
    const state = this.batchState(id);
    for (const listener of this.batchWatchers.get(id) ?? []) listener(state);
    if (this.listed.includes(id)) this.notifyList();
  }

  private notifyList(): void {
    if (this.listWatchers.size === 0) return;
    const state = this.listState();
    for (const listener of this.listWatchers) listener(state);
  }
}
