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
