import { z } from 'zod';
import { isStorableMetadata, METADATA_RULE } from '../../shared/json-limits';

export const MAX_LIST_IDS = 10_000;

const userIds = (name: string) =>
  z
    .array(z.string().min(1).max(255), { error: `${name} must be an array of user ids` })
    .max(MAX_LIST_IDS, `${name} must have at most ${MAX_LIST_IDS} ids`)
    .refine((ids) => new Set(ids).size === ids.length, `${name} must not contain duplicates`);

const flagFields = {
  enabled: z.boolean({ error: 'enabled must be a boolean' }),
  rollout: z
    .number({ error: 'rollout must be a number with at most 2 decimals' })
    .min(0, 'rollout must be between 0 and 100')
    .max(100, 'rollout must be between 0 and 100')
    .refine(
      (n) => Math.abs(Math.round(n * 100) - n * 100) < 1e-9,
      'rollout must be a number with at most 2 decimals',
    ),
  whitelist: userIds('whitelist').optional(),
  blacklist: userIds('blacklist').optional(),
  description: z.string().max(1000).optional(),
  metadata: z.record(z.string(), z.unknown()).refine(isStorableMetadata, METADATA_RULE).optional(),
};

/** PUT /feature-flags/:name: the whole flag. */
export const putFlagSchema = z.strictObject(flagFields);
export type PutFlagDto = z.infer<typeof putFlagSchema>;

/** PATCH /feature-flags/:name: any subset. */
export const patchFlagSchema = z.strictObject(flagFields).partial();
export type PatchFlagDto = z.infer<typeof patchFlagSchema>;

export const evaluateQuerySchema = z.strictObject({ userId: z.string().min(1).max(255) });
export type EvaluateQuery = z.infer<typeof evaluateQuerySchema>;
