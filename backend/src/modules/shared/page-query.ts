import { z } from 'zod';

/** `limit` (1…100, default 20) and an opaque `cursor`, as query-string values. */
export const pageQueryFields = {
  limit: z.coerce
    .number({ error: 'limit must be an integer' })
    .int('limit must be an integer')
    .min(1, 'limit must be between 1 and 100')
    .max(100, 'limit must be between 1 and 100')
    .optional(),
  cursor: z.string().max(512, 'cursor is not valid').optional(),
};
