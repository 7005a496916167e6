import { z } from 'zod';
import { isStorableMetadata, METADATA_RULE } from '../../shared/json-limits';

export const MAX_LIST_IDS = 10_000;

const userIds = (name: string) =>
  z
    .array(z.string().min(1).max(255), { error: `${name} must be an array of user ids` })
    .max(MAX_LIST_IDS, `${name} must have at most ${MAX_LIST_IDS} ids`)
    .refine((ids) => new Set(ids).size === ids.length, `${name} must not contain duplicates`);

/** A rollout percentage: 0-100 with at most 2 decimals (flags and rollout plan steps). */
export const rolloutPercent = z
  .number({ error: 'rollout must be a number with at most 2 decimals' })
  .min(0, 'rollout must be between 0 and 100')
  .max(100, 'rollout must be between 0 and 100')
  .refine(
    (n) => Math.abs(Math.round(n * 100) - n * 100) < 1e-9,
    'rollout must be a number with at most 2 decimals',
  );

const flagFields = {
  enabled: z.boolean({ error: 'enabled must be a boolean' }),
  rollout: rolloutPercent,
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

/** A flag as the admin API answers it; FlagView is this schema's type. */
export const flagViewSchema = z.object({
  name: z.string(),
  enabled: z.boolean(),
  rollout: z.number(),
  whitelist: z.array(z.string()),
  blacklist: z.array(z.string()),
  description: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  updatedBy: z.string().nullable(),
});

export const flagListSchema = z.object({ data: z.array(flagViewSchema) });

export const auditTrailSchema = z.object({
  data: z.array(
    z.object({
      actor: z.string(),
      action: z
        .string()
        .describe(
          'create | update | delete, or rollout-plan.<started|advanced|rolled_back|completed|paused|resumed|aborted|deleted>',
        ),
      before: flagViewSchema.nullable(),
      after: flagViewSchema
        .extend({
          rolloutPlan: z
            .record(z.string(), z.unknown())
            .optional()
            .describe('For rollout-plan actions: the step, the rollout and the guard values that decided it'),
        })
        .nullable(),
      correlationId: z.string(),
      createdAt: z.string(),
    }),
  ),
});

const reason = z.enum(['DISABLED', 'TARGETING_MATCH', 'SPLIT', 'DEFAULT', 'ERROR']);

export const evaluationSchema = z.object({
  enabled: z.boolean(),
  reason,
  bucket: z.number().int().nullable(),
});

export const myFeaturesSchema = z.record(z.string(), z.object({ enabled: z.boolean(), reason }));
