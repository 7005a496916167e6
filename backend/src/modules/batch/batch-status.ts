export enum BatchStatus {
  Pending = 'pending',
  Processing = 'processing',
  Paused = 'paused',
  Completed = 'completed',
  CompletedWithErrors = 'completed_with_errors',
  Failed = 'failed',
  Cancelled = 'cancelled',
}

export enum ItemStatus {
  Queued = 'queued',
  Processing = 'processing',
  Success = 'success',
  Failed = 'failed',
  Cancelled = 'cancelled',
}

export const FINISHED_BATCH_STATUSES: readonly BatchStatus[] = [
  BatchStatus.Completed,
  BatchStatus.CompletedWithErrors,
  BatchStatus.Failed,
  BatchStatus.Cancelled,
];

export function isFinished(status: string): boolean {
  return (FINISHED_BATCH_STATUSES as readonly string[]).includes(status);
}

export interface BatchOptions {
  chunkSize: number;
  maxAttempts: number;
  allowFailures: boolean;
}
