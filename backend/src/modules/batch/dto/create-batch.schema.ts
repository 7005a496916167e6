import { z } from 'zod';

export const MAX_ITEM_BYTES = 16 * 1024;
export const MAX_REPORTED_ITEM_ERRORS = 100;

const optionsSchema = z.strictObject({
  chunkSize: z
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(1, 'must be between 1 and 500')
    .max(500, 'must be between 1 and 500')
    .optional(),
  maxAttempts: z
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(1, 'must be between 1 and 10')
    .max(10, 'must be between 1 and 10')
    .optional(),
  allowFailures: z.boolean({ error: 'must be a boolean' }).optional(),
  keepOpenSeconds: z
    .number({ error: 'must be an integer' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .optional(),
});

/** The envelope of POST /batches; item contents are checked separately (per item, with indexes). */
export const createBatchSchema = z.strictObject({
  operation: z
    .string({ error: 'must be a string' })
    .min(1, 'must not be empty')
    .max(100, 'must be at most 100 characters'),
  items: z
    .array(z.unknown(), { error: 'must be an array of JSON objects' })
    .min(1, 'must contain at least one item'),
  options: optionsSchema.optional(),
  metadata: z.record(z.string(), z.unknown(), { error: 'must be a JSON object' }).nullable().optional(),
});

export type CreateBatchBody = z.infer<typeof createBatchSchema>;

/** The body of POST /batches/:id/items: more items for an open batch (checked as at creation). */
export const appendItemsSchema = z.strictObject({
  items: z
    .array(z.unknown(), { error: 'must be an array of JSON objects' })
    .min(1, 'must contain at least one item'),
});

export const retryBatchSchema = z.strictObject({
  itemIds: z
    .array(z.string({ error: 'must be strings' }).min(1).max(64), { error: 'must be an array of item ids' })
    .min(1, 'must not be empty')
    .max(10_000, 'must have at most 10000 ids')
    .optional(),
  group: z
    .strictObject({
      error: z.string().max(20_000).nullable(),
      errorCategory: z.string().max(100).nullable(),
    })
    .optional()
    .describe('Only failed items with this error and category (a group of GET /batches/:id/failures)'),
});

export type RetryBody = z.infer<typeof retryBatchSchema>;
