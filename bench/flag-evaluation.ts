import { inProcessApp } from './lib/in-process';
import { FeatureFlagsService, RolloutSignals } from '../backend/src/modules/feature-flags';

export interface FlagEvaluationCost {
  /** ns per gate check (the batch routes' guard: evaluate the flag for the caller), no rollout plan. */
  plainNs: number;
  /** The same with an active plan: evaluate, plus recording the answer for the plan's guards. */
  guardedNs: number;
}

/**
 * What a gated request pays for the flag, in process: `calls` evaluations of
 * BATCH_OPERATIONS for 1,000 users, without a rollout plan and while a plan's guards
 * record every answer (the cohort lookup and in-memory counting; the flush to the
 * database runs once a second, off the request). Best of 5 rounds each, interleaved.
 */
export async function flagEvaluationCost(calls: number): Promise<FlagEvaluationCost> {
  const { app, close } = await inProcessApp();
  const flags = app.get(FeatureFlagsService);
  const signals = app.get(RolloutSignals);
  const users = Array.from({ length: 1000 }, (_, i) => `bench-user-${i}`);
  const round = async (guarded: boolean) => {
    signals.watch(guarded ? ['BATCH_OPERATIONS'] : []);
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) {
      const userId = users[i % users.length];
      await flags.isEnabled('BATCH_OPERATIONS', userId);
      if (guarded) signals.request(userId, { status: 202, durationMs: 3 });
    }
    const ns = Number(process.hrtime.bigint() - started) / calls;
    if (guarded) await signals.flush();
    return ns;
  };
  let plainNs = Infinity;
  let guardedNs = Infinity;
  for (let r = 0; r < 5; r++) {
    plainNs = Math.min(plainNs, await round(false));
    guardedNs = Math.min(guardedNs, await round(true));
  }
  signals.watch([]);
  await close();
  return { plainNs, guardedNs };
}
