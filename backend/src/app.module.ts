import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { CommonModule } from './common/common.module';
import { AppConfig } from './common/config/app-config';
import { ConfigModule } from './common/config/config.module';
import { BatchModule } from './modules/batch/batch.module';
import { FeatureFlagsModule } from './modules/feature-flags/feature-flags.module';
import { PapersModule } from './modules/papers/papers.module';

@Module({})
export class AppModule {
  /** The whole application for one validated configuration. */
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        { ...ConfigModule.forConfig(config), global: true },
        EventEmitterModule.forRoot(),
        CommonModule,
        FeatureFlagsModule,
        PapersModule,
        BatchModule,
      ],
    };
  }
}
