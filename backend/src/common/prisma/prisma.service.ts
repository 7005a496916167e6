import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '@prisma/client';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { resolveSqliteUrl } from './database-url';
import { SerializedSqliteAdapterFactory } from './serialized-sqlite-adapter';

/**
 * SQLite pragmas for one busy writer and many readers, set on the adapter's single
 * connection right after it opens. Raw integer results come back as BigInt
 * (the adapter enables safe integers): convert with Number().
 */
export const SQLITE_PRAGMAS = [
  'PRAGMA journal_mode = WAL',
  'PRAGMA busy_timeout = 5000',
  'PRAGMA synchronous = NORMAL',
  'PRAGMA foreign_keys = ON',
];

/** The Prisma client over the better-sqlite3 driver adapter (no query-engine binary). */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  readonly databasePath: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const databasePath = resolveSqliteUrl(config.DATABASE_URL);
    super({
      adapter: new SerializedSqliteAdapterFactory(new PrismaBetterSQLite3({ url: databasePath })),
      transactionOptions: { maxWait: 15_000, timeout: 60_000 },
    });
    this.databasePath = databasePath;
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
    for (const pragma of SQLITE_PRAGMAS) await this.$queryRawUnsafe(pragma);
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }

  /** True when the database answers a trivial query. */
  async ping(): Promise<boolean> {
    try {
      await this.$queryRawUnsafe('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }
}
