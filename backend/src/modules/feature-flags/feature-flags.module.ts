import { DynamicModule, Module } from '@nestjs/common';
import { ModuleAuthGuard } from '../shared/module-auth';
import { AsyncModuleOptions, optionsProvider } from '../shared/module-options';
import { FeatureFlagsController } from './feature-flags.controller';
import { FEATURE_FLAGS_OPTIONS, FeatureFlagsModuleOptions } from './feature-flags.options';
import { FeatureFlagsRepository } from './feature-flags.repository';
import { FeatureFlagsService } from './feature-flags.service';
import { MeFeaturesController } from './me-features.controller';
import { RequireFeatureGuard } from './require-feature.guard';
import { RolloutPlansController } from './rollout/rollout-plans.controller';
import { RolloutPlansRepository } from './rollout/rollout-plans.repository';
import { FlagRolloutEvents, RolloutPlansService } from './rollout/rollout-plans.service';
import { RolloutSignals } from './rollout/rollout-signals';

/**
 * Feature flags with an audited admin API. Global, so any module can put
 * @RequireFeature() on its routes (with RequireFeatureGuard after ModuleAuthGuard).
 * Needs BatchOpsCoreModule (the host's ports) in the app.
 */
@Module({})
export class FeatureFlagsModule {
  static forRoot(options: FeatureFlagsModuleOptions): DynamicModule {
    return FeatureFlagsModule.forRootAsync({ useFactory: () => options });
  }

  static forRootAsync(options: AsyncModuleOptions<FeatureFlagsModuleOptions>): DynamicModule {
    return {
      module: FeatureFlagsModule,
      global: true,
      imports: options.imports ?? [],
      controllers: [FeatureFlagsController, RolloutPlansController, MeFeaturesController],
      providers: [
        optionsProvider(FEATURE_FLAGS_OPTIONS, options),
        FeatureFlagsRepository,
        FeatureFlagsService,
        RequireFeatureGuard,
        ModuleAuthGuard,
        RolloutPlansRepository,
        RolloutPlansService,
        RolloutSignals,
        FlagRolloutEvents,
      ],
      exports: [
        FeatureFlagsService,
        RequireFeatureGuard,
        RolloutSignals,
        FlagRolloutEvents,
        RolloutPlansService,
      ],
    };
  }
}
