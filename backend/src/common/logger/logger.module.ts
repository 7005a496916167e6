import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppLogger } from './app-logger';

export function createAppLogger(config: AppConfig): AppLogger {
  return new AppLogger({
    logDir: config.LOG_DIR,
    level: config.LOG_LEVEL,
    json: config.NODE_ENV === 'production',
    console: config.LOG_CONSOLE === 'true',
  });
}

@Global()
@Module({
  providers: [{ provide: AppLogger, inject: [APP_CONFIG], useFactory: createAppLogger }],
  exports: [AppLogger],
})
export class LoggerModule {}
