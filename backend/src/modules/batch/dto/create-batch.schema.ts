import { z } from 'zod';

export const MAX_ITEM_BYTES = 16 * 1024;
export const MAX_METADATA_BYTES = 4 * 1024;
export const MAX_JSON_DEPTH = 32;
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

export const retryBatchSchema = z.strictObject({
  itemIds: z
    .array(z.string({ error: 'must be strings' }).min(1).max(64), { error: 'must be an array of item ids' })
    .min(1, 'must not be empty')
    .max(10_000, 'must have at most 10000 ids')
    .optional(),
});

/** Nesting depth of a JSON value, without recursion (a hostile body cannot blow the stack). */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    max = Math.max(max, depth);
    if (max > MAX_JSON_DEPTH) return max;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return max;
}

// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * True when a string (key or value) holds NUL or an unpaired surrogate: PostgreSQL's
 * jsonb cannot store them, so both back ends refuse them the same way.
 */
export function hasUnstorableText(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (UNSTORABLE.test(current)) return true;
    } else if (current !== null && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        if (UNSTORABLE.test(key)) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
