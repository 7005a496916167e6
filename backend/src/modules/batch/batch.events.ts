import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import { BatchRecord, BatchView, toBatchView } from './batch.types';
import type { ItemProgressEvent } from './batch-socket.events';

/** Internal domain events of the engine, published only after the transaction that caused them committed. */
export const BatchEvent = {
  /** New work is claimable (a batch was sealed, resumed or retried): idle workers wake up. */
  Queued: 'batch.queued',
  Started: 'batch.started',
  Progress: 'batch.progress',
  Finished: 'batch.finished',
  /** Progress an operation reported inside an item (coalesced at the source). */
  ItemProgress: 'batch.item-progress',
} as const;

export interface BatchEventPayload {
  batch: BatchView;
  /** The batch's eventSeq after the commit. */
  seq: number;
  /** Epoch ms of the commit that produced this state. */
  committedAt: number;
}

export interface BatchEventMap {
  [BatchEvent.Queued]: { batchId: string };
  [BatchEvent.Started]: BatchEventPayload;
  [BatchEvent.Progress]: BatchEventPayload;
  [BatchEvent.Finished]: BatchEventPayload;
  [BatchEvent.ItemProgress]: ItemProgressEvent;
}

export type BatchEventName = keyof BatchEventMap;

/** The payload for a committed state of `batch`; call after the commit. */
export function batchEventPayload(batch: BatchRecord, committedAt: number): BatchEventPayload {
  return { batch: toBatchView(batch), seq: batch.eventSeq, committedAt };
}

/**
 * The one place batch events are published and heard inside a process (typed, synchronous,
 * no dependency on the host's event emitter). The worker and the service publish; the
 * worker's wake-up and the event relay listen.
 */
@Injectable()
export class BatchEventBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  publish<K extends BatchEventName>(name: K, payload: BatchEventMap[K]): void {
    this.emitter.emit(name, payload);
  }

  on<K extends BatchEventName>(name: K, listener: (payload: BatchEventMap[K]) => void): void {
    this.emitter.on(name, listener);
  }
}
