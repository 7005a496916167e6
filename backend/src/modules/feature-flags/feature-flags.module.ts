import { Global, Module } from '@nestjs/common';
import { FeatureFlagsController } from './feature-flags.controller';
import { FeatureFlagsRepository } from './feature-flags.repository';
import { FeatureFlagsService } from './feature-flags.service';
import { MeFeaturesController } from './me-features.controller';
import { RequireFeatureGuard } from './require-feature.guard';

/** Global so any module can put @RequireFeature() on its routes. */
@Global()
@Module({
  controllers: [FeatureFlagsController, MeFeaturesController],
  providers: [FeatureFlagsRepository, FeatureFlagsService, RequireFeatureGuard],
  exports: [FeatureFlagsService, RequireFeatureGuard],
})
export class FeatureFlagsModule {}
