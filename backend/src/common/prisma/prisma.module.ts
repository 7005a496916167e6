import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { isPostgresUrl } from './database-url';
import { createPostgresPrisma } from './postgres-prisma.service';
import { PrismaService } from './prisma.service';

/** SQLite by default; a postgresql:// DATABASE_URL selects the PostgreSQL client instead. */
@Global()
@Module({
  providers: [
    {
      provide: PrismaService,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): PrismaService =>
        isPostgresUrl(config.DATABASE_URL) ? createPostgresPrisma(config) : new PrismaService(config),
    },
  ],
  exports: [PrismaService],
})
export class PrismaModule {}
