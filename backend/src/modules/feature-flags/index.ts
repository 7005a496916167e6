/** The public entry of the feature-flag module: everything a host imports. */
export { FeatureFlagsModule } from './feature-flags.module';
export type { FeatureFlagsModuleOptions } from './feature-flags.options';
export { FeatureFlagsService, type FlagView } from './feature-flags.service';
export { RequireFeature, RequireFeatureGuard } from './require-feature.guard';
export type { Evaluation } from './flag-evaluation';
export {
  FlagRolloutEvents,
  type FlagRolloutEvent,
  RolloutPlansService,
} from './rollout/rollout-plans.service';
export { RolloutSignals } from './rollout/rollout-signals';
export { FeatureFlagsProvider } from './openfeature-provider';
export * from '../shared';
