import { DynamicModule, Module } from '@nestjs/common';
import { Clock } from '../../modules/shared/clock';

@Module({})
export class ClockModule {
  /** The one clock of the application (SystemClock in production, ManualClock in tests). */
  static with(clock: Clock): DynamicModule {
    return {
      module: ClockModule,
      global: true,
      providers: [{ provide: Clock, useValue: clock }],
      exports: [Clock],
    };
  }
}
