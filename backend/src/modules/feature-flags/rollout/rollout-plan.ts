import { z } from 'zod';
import { rolloutPercent } from '../dto/flag.dto';

/** Upper bounds (ms) of the latency histogram the instances store; p95 is read off it. */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, Infinity] as const;

export const GUARD_NAMES = [
  'itemFailureRate',
  'serverErrorRate',
  'p95LatencyMs',
  'databaseBusyRate',
] as const;
export type GuardName = (typeof GUARD_NAMES)[number];

const guard = (what: string, max: z.ZodNumber) =>
  z.strictObject({
    max: max.describe(`Breached above this ${what}`),
    minSamples: z
      .number({ error: 'minSamples must be an integer' })
      .int('minSamples must be an integer')
      .min(1, 'minSamples must be at least 1')
      .max(10_000_000, 'minSamples must be at most 10000000')
      .describe('Nothing is decided on fewer samples (items settled, or requests) than this'),
  });
const rate = z
  .number({ error: 'max must be a rate between 0 and 1' })
  .min(0, 'max must be a rate between 0 and 1')
  .max(1, 'max must be a rate between 0 and 1');

const seconds = z
  .number({ error: 'minStepSeconds must be an integer of seconds' })
  .int('minStepSeconds must be an integer of seconds')
  .min(1, 'minStepSeconds must be at least 1')
  .max(30 * 86_400, 'minStepSeconds must be at most 30 days');

const step = z.union(
  [
    z.strictObject({
      whitelistOnly: z.literal(true, { error: 'whitelistOnly must be true' }),
      minStepSeconds: seconds.optional(),
    }),
    z.strictObject({ rollout: rolloutPercent, minStepSeconds: seconds.optional() }),
  ],
  { error: 'each step must be { "whitelistOnly": true } or { "rollout": 0-100 }' },
);

/** PUT /feature-flags/:name/rollout-plan. */
export const rolloutPlanBodySchema = z
  .strictObject({
    steps: z
      .array(step, { error: 'steps must be an array' })
      .min(1, 'steps must have at least one step')
      .max(20, 'steps must have at most 20 steps'),
    minStepSeconds: z.union([seconds, z.array(seconds)], {
      error: 'minStepSeconds must be an integer of seconds, or one per step',
    }),
    guards: z
      .strictObject({
        itemFailureRate: guard('share of settled items that failed (0-1)', rate).optional(),
        serverErrorRate: guard('share of the module’s answers that were 5xx (0-1)', rate).optional(),
        p95LatencyMs: guard(
          'p95 latency of the module’s routes, ms',
          z.number({ error: 'max must be a number of ms' }).min(1).max(600_000),
        ).optional(),
        databaseBusyRate: guard(
          'share of answers that were DATABASE_BUSY or DATABASE_UNAVAILABLE (0-1)',
          rate,
        ).optional(),
      })
      .default({}),
    onBreach: z
      .enum(['previous', 'off'], { error: 'onBreach must be "previous" or "off"' })
      .default('previous'),
  })
  .superRefine((plan, ctx) => {
    if (Array.isArray(plan.minStepSeconds) && plan.minStepSeconds.length !== plan.steps.length)
      ctx.addIssue({
        code: 'custom',
        path: ['minStepSeconds'],
        message: `must have one entry per step (${plan.steps.length})`,
      });
    let last = -1;
    plan.steps.forEach((s, i) => {
      const at = 'rollout' in s ? s.rollout : 0;
      if ('whitelistOnly' in s && i > 0)
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i],
          message: 'a whitelistOnly step can only come first',
        });
      if (at < last)
        ctx.addIssue({ code: 'custom', path: ['steps', i], message: 'steps must not lower the rollout' });
      last = at;
    });
  });
export type RolloutPlanBody = z.output<typeof rolloutPlanBodySchema>;

export type PlanState = 'active' | 'paused' | 'halted' | 'completed' | 'aborted';
export type TransitionAction =
  'started' | 'advanced' | 'rolled_back' | 'halted' | 'completed' | 'paused' | 'resumed' | 'aborted';

/** What an instance measured of a flag's cohort since a moment (summed over every instance's rows). */
export interface Samples {
  requests: number;
  serverErrors: number;
  databaseBusy: number;
  itemsSettled: number;
  itemsFailed: number;
  /** Counts per bound of LATENCY_BOUNDS_MS. */
  latency: number[];
}

export const emptySamples = (): Samples => ({
  requests: 0,
  serverErrors: 0,
  databaseBusy: 0,
  itemsSettled: 0,
  itemsFailed: 0,
  latency: LATENCY_BOUNDS_MS.map(() => 0),
});

export function addSamples(into: Samples, more: Samples): Samples {
  into.requests += more.requests;
  into.serverErrors += more.serverErrors;
  into.databaseBusy += more.databaseBusy;
  into.itemsSettled += more.itemsSettled;
  into.itemsFailed += more.itemsFailed;
  more.latency.forEach((n, i) => (into.latency[i] = (into.latency[i] ?? 0) + n));
  return into;
}

export function latencyBucket(ms: number): number {
  return LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);
}

/** The p95 read off the histogram: the upper bound of the bucket holding the 95th percentile (the largest finite one for the last). */
export function p95(latency: number[]): number | null {
  const total = latency.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(total * 0.95);
  let seen = 0;
  for (let i = 0; i < latency.length; i++) {
    seen += latency[i];
    if (seen >= rank)
      return Number.isFinite(LATENCY_BOUNDS_MS[i]) ? LATENCY_BOUNDS_MS[i] : LATENCY_BOUNDS_MS[i - 1] * 2;
  }
  return null;
}

export interface GuardReading {
  max: number;
  minSamples: number;
  /** The cohort's value (null: no sample yet). */
  value: number | null;
  samples: number;
  /** ok: holds with enough samples; breached: above max with enough samples; insufficient: too few samples to say. */
  status: 'ok' | 'breached' | 'insufficient';
}

/** Each configured guard's value on the cohort's samples. */
export function readGuards(
  guards: RolloutPlanBody['guards'],
  samples: Samples,
): Partial<Record<GuardName, GuardReading>> {
  const out: Partial<Record<GuardName, GuardReading>> = {};
  const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);
  const values: Record<GuardName, { value: number | null; samples: number }> = {
    itemFailureRate: {
      value: ratio(samples.itemsFailed, samples.itemsSettled),
      samples: samples.itemsSettled,
    },
    serverErrorRate: { value: ratio(samples.serverErrors, samples.requests), samples: samples.requests },
    p95LatencyMs: { value: p95(samples.latency), samples: samples.requests },
    databaseBusyRate: { value: ratio(samples.databaseBusy, samples.requests), samples: samples.requests },
  };
  for (const name of GUARD_NAMES) {
    const config = guards[name];
    if (!config) continue;
    const { value, samples: n } = values[name];
    const status =
      n < config.minSamples || value === null ? 'insufficient' : value > config.max ? 'breached' : 'ok';
    out[name] = {
      ...config,
      value: value === null ? null : Math.round(value * 10_000) / 10_000,
      samples: n,
      status,
    };
  }
  return out;
}

/** The plan's step as a flag setting. */
export function stepRollout(step: RolloutPlanBody['steps'][number]): number {
  return 'rollout' in step ? step.rollout : 0;
}

export function stepSeconds(plan: RolloutPlanBody, index: number): number {
  const own = plan.steps[index]?.minStepSeconds;
  if (own !== undefined) return own;
  return Array.isArray(plan.minStepSeconds) ? plan.minStepSeconds[index] : plan.minStepSeconds;
}

export type Decision = 'advance' | 'complete' | 'roll_back' | 'wait';

/**
 * What an evaluation does: roll back on any guard breached with enough samples; advance
 * (or complete, after the last step) once the step's time has passed and every guard
 * holds with enough samples; otherwise wait (too early, or too few samples to say).
 */
export function decide(
  plan: RolloutPlanBody,
  step: number,
  stepStartedAt: number,
  now: number,
  readings: Partial<Record<GuardName, GuardReading>>,
): Decision {
  const all = Object.values(readings);
  if (all.some((r) => r.status === 'breached')) return 'roll_back';
  if (now - stepStartedAt < stepSeconds(plan, step) * 1000) return 'wait';
  if (all.some((r) => r.status !== 'ok')) return 'wait';
  return step + 1 < plan.steps.length ? 'advance' : 'complete';
}

const guardReadingSchema = z.object({
  max: z.number(),
  minSamples: z.number().int(),
  value: z.number().nullable().describe("The flag's cohort (users it lets in), since the step began"),
  samples: z.number().int(),
  status: z.enum(['ok', 'breached', 'insufficient']),
});

/** GET /feature-flags/:name/rollout-plan (for OpenAPI; the service's RolloutPlanView). */
export const rolloutPlanViewSchema = z.object({
  flag: z.string(),
  state: z.enum(['active', 'paused', 'halted', 'completed', 'aborted']),
  step: z.number().int(),
  rollout: z.number(),
  steps: z.array(z.record(z.string(), z.unknown())),
  minStepSeconds: z.array(z.number().int()),
  guards: z.record(
    z.string(),
    guardReadingSchema.extend({
      rest: z
        .object({ value: z.number().nullable(), samples: z.number().int() })
        .describe('The same measure for users the flag does not let in'),
    }),
  ),
  onBreach: z.enum(['previous', 'off']),
  stepStartedAt: z.string(),
  stepMinEndsAt: z.string(),
  history: z.array(
    z.object({
      n: z.number().int(),
      action: z.string(),
      step: z.number().int(),
      rollout: z.number(),
      enabled: z.boolean(),
      actor: z.string(),
      at: z.string(),
      guards: z.record(z.string(), guardReadingSchema).optional(),
      reason: z.string().optional(),
    }),
  ),
  createdAt: z.string(),
  updatedAt: z.string(),
  updatedBy: z.string().nullable(),
});
