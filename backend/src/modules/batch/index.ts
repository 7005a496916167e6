/** The public entry of the batch module: everything a host imports. */
export { BatchModule } from './batch.module';
export {
  type BatchModuleOptions,
  type BatchProgressPort,
  type BatchSettings,
  DEFAULT_BATCH_SETTINGS,
} from './batch.options';
export { BatchService } from './batch.service';
export {
  BatchOperation,
  type BatchOperationHandler,
  type ChunkItem,
  type ItemOutcome,
  type KeyEntry,
  type OperationContext,
  type OperationLimits,
  PermanentItemError,
  RetryableItemError,
} from './operations/batch-operation';
export type { BatchCompleteEvent, BatchProgressEvent } from './batch-socket.events';
export type { BatchView, ItemView } from './batch.types';
export { itemId, seqOfItemId } from './batch-row.mapper';
export * from '../shared';
