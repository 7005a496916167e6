import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { Clock, SystemClock } from './common/clock/clock';
import { ClockModule } from './common/clock/clock.module';
import { CommonModule } from './common/common.module';
import { AppConfig } from './common/config/app-config';
import { ConfigModule } from './common/config/config.module';
import { BatchModule } from './modules/batch/batch.module';
import { FeatureFlagsModule } from './modules/feature-flags/feature-flags.module';
import { PapersModule } from './modules/papers/papers.module';

/** Replaceable parts (tests move time with a ManualClock). */
export interface AppOverrides {
  clock?: Clock;
}

@Module({})
export class AppModule {
  /** The whole application for one validated configuration. */
  static register(config: AppConfig, overrides: AppOverrides = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ClockModule.with(overrides.clock ?? new SystemClock()),
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
