/** FeatureFlagsModule's own settings (the host's ports go to BatchOpsCoreModule, once). */
export interface FeatureFlagsModuleOptions {
  /** How long a process serves flags from its cache (default 5,000 ms); changes made here are seen at once. */
  cacheMs?: number;
  /** How often rollout plans are evaluated (default 60,000 ms; ROLLOUT_EVALUATION_MS in the standalone service). */
  rolloutEvaluationMs?: number;
}

export const FEATURE_FLAGS_OPTIONS = Symbol('FEATURE_FLAGS_OPTIONS');
