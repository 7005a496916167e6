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
  operation: z.string().min(1).max(100).optional().describe('Only batches of this operation'),
  q: z
    .string()
    .trim()
    .min(1, 'q must not be empty')
    .max(200, 'q must be at most 200 characters')
    .optional()
    .describe('Part of the batch id or of its metadata (any case)'),
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

export const throughputQuerySchema = z.strictObject({
  buckets: z.coerce
    .number({ error: 'buckets must be a number' })
    .int('buckets must be an integer')
    .min(1, 'buckets must be at least 1')
    .max(240, 'buckets must be at most 240')
    .default(60),
});

export type ThroughputQuery = z.infer<typeof throughputQuerySchema>;
