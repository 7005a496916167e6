import { BatchRecord, BatchView, toBatchView } from './batch.types';

/** Internal domain events of the engine, emitted only after the transaction that caused them committed. */
export const BatchEvent = {
  Started: 'batch.started',
  Progress: 'batch.progress',
  Finished: 'batch.finished',
} as const;

export interface BatchEventPayload {
  batch: BatchView;
  /** The batch's eventSeq after the commit. */
  seq: number;
  /** Epoch ms of the commit that produced this state. */
  committedAt: number;
}

export interface BatchEventMap {
  [BatchEvent.Started]: BatchEventPayload;
  [BatchEvent.Progress]: BatchEventPayload;
  [BatchEvent.Finished]: BatchEventPayload;
}

/** The payload for a committed state of `batch`; call after the commit. */
export function batchEventPayload(batch: BatchRecord, committedAt: number): BatchEventPayload {
  return { batch: toBatchView(batch), seq: batch.eventSeq, committedAt };
}
