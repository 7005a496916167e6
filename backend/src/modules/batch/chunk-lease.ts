import type { Clock } from '../shared/clock';
import type { AbortReason } from './batch-lifecycle';
import { BatchStatus } from './batch-status';
import type { BatchRepository } from './batch.repository';
import type { ChunkRepository } from './chunk.repository';
import type { OperationLimitsRepository } from './operation-limits.repository';

/** How often a chunk of an outside operation checks whether its batch was cancelled or paused. */
export const STATUS_POLL_MS = 250;

export interface ChunkLeaseDeps {
  batches: BatchRepository;
  chunks: ChunkRepository;
  limits: OperationLimitsRepository;
  clock: Clock;
  leaseMs: number;
}

/**
 * A claimed chunk's hold on its work, out of the worker (as BullMQ moved lock renewal into
 * its LockManager): renews the chunk's lease, and its operation slots when it has some,
 * every third of the lease; for an outside operation, watches the batch's status and
 * aborts `signal` within STATUS_POLL_MS of a cancel or pause sent to any process, and on
 * shutdown; gives the slots back on `release`. `reason` says why the work was stopped.
 */
export class ChunkLease {
  private readonly abort = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  private stoppedFor: AbortReason | null = null;
  private readonly onShutdown = () => this.stopFor('shutdown');

  constructor(
    private readonly deps: ChunkLeaseDeps,
    private readonly chunk: { batchKey: number; leaseToken: string; holdsSlots: boolean },
    private readonly shutdown: AbortSignal,
  ) {
    this.timers.push(setInterval(() => this.renew(), Math.max(250, Math.floor(deps.leaseMs / 3))));
  }

  /** Aborts when the batch is cancelled or paused, or the process stops (outside operations only). */
  watch(): this {
    if (this.shutdown.aborted) this.stopFor('shutdown');
    this.shutdown.addEventListener('abort', this.onShutdown, { once: true });
    this.timers.push(setInterval(() => void this.checkStatus(), STATUS_POLL_MS));
    return this;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get reason(): AbortReason | null {
    return this.stoppedFor;
  }

  /** Stops renewing and watching, and frees the chunk's operation slots at once (else they come back when their lease ends). */
  async release(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.shutdown.removeEventListener('abort', this.onShutdown);
    if (this.chunk.holdsSlots) await this.deps.limits.release(this.chunk.leaseToken).catch(() => undefined);
  }

  private renew(): void {
    const until = this.deps.clock.now() + this.deps.leaseMs;
    void this.deps.chunks
      .renewLease(this.chunk.batchKey, this.chunk.leaseToken, until)
      .catch(() => undefined);
    if (this.chunk.holdsSlots)
      void this.deps.limits.renew(this.chunk.leaseToken, until).catch(() => undefined);
  }

  private async checkStatus(): Promise<void> {
    const status = await this.deps.batches.statusOf(this.chunk.batchKey).catch(() => null);
    if (status === BatchStatus.Cancelled) this.stopFor('cancel');
    else if (status === BatchStatus.Paused) this.stopFor('pause');
  }

  private stopFor(why: AbortReason): void {
    this.stoppedFor ??= why;
    this.abort.abort(why);
  }
}
