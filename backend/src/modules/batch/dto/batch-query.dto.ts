import { z } from 'zod';
import { pageQueryFields } from '../../shared/page-query';
import { BatchStatus, ItemStatus } from '../batch-status';

const statusOf = <T extends Record<string, string>>(values: T) =>
  z.enum(values, { error: `status must be one of ${Object.values(values).join(', ')}` }).optional();

export const listBatchesQuerySchema = z.strictObject({
  ...pageQueryFields,
  status: statusOf(BatchStatus),
  /** Admins only: list this user's batches. */
  userId: z.string().min(1).max(255).optional(),
});

export type ListBatchesQuery = z.infer<typeof listBatchesQuerySchema>;

export const listItemsQuerySchema = z.strictObject({
  ...pageQueryFields,
  status: statusOf(ItemStatus),
});

export type ListItemsQuery = z.infer<typeof listItemsQuerySchema>;

export const exportItemsQuerySchema = z.strictObject({
  format: z.enum(['csv', 'ndjson'], { error: 'format must be csv or ndjson' }).default('csv'),
  status: statusOf(ItemStatus),
});

export type ExportItemsQuery = z.infer<typeof exportItemsQuerySchema>;
