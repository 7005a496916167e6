import type { FlagRolloutEvent } from '../feature-flags';
import type { BatchView } from './batch.types';

export interface BatchProgressEvent {
  batchId: string;
  userId: string;
  seq: number;
  status: string;
  stage: 'processing' | 'finished';
  percentage: number;
  itemCount: number;
  processedCount: number;
  succeededCount: number;
  failedCount: number;
  cancelledCount: number;
  message: string;
  correlationId: string;
  details: { itemsPerSecond: number; etaSeconds: number | null };
  at: string;
}

export interface BatchCompleteEvent extends BatchProgressEvent {
  finishedAt: string | null;
}

export interface BatchErrorEvent {
  batchId?: string;
  code: string;
  message: string;
  correlationId: string;
}

/** Server → client events of the /batches namespace, declared once. */
export interface ServerToClientEvents {
  'batch-progress': (event: BatchProgressEvent) => void;
  'batch-complete': (event: BatchCompleteEvent) => void;
  'batch-error': (event: BatchErrorEvent) => void;
  'item-progress': (event: ItemProgressEvent) => void;
  /** A rollout plan's transition (contract v3), to admins' sockets only. */
  'flag-rollout': (event: FlagRolloutEvent) => void;
}

export type SubscribeAck =
  { ok: true; batch: BatchView; seq: number } | { ok: false; error: { code: string; message?: string } };

/** What an `item-progress` event carries (contract v2). */
export interface ItemProgressEvent {
  batchId: string;
  userId: string;
  itemId: string;
  /** The item's position in the batch. */
  seq: number;
  stage: string;
  percentage: number;
  message: string;
  at: string;
}
