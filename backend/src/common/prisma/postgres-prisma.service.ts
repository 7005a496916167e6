import { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Prisma as PgPrisma, PrismaClient as PgPrismaClient } from '.prisma/pg-client';
import { AppConfig } from '../config/app-config';
import { postgresPoolConfig } from './database-url';
import type { PrismaService } from './prisma.service';
import { numberPlaceholders, postgresDialect } from '../../modules/shared/database/sql-dialect';
import { pingDatabase, type SqlExecutor } from '../../modules/shared/database/sql-executor';

const numbered = (executor: SqlExecutor): SqlExecutor => ({
  $queryRawUnsafe: (sql, ...args) => executor.$queryRawUnsafe(numberPlaceholders(sql), ...args),
  $executeRawUnsafe: (sql, ...args) => executor.$executeRawUnsafe(numberPlaceholders(sql), ...args),
});

/**
 * The same service on PostgreSQL: the client generated from the derived schema
 * (backend/prisma/postgres) over @prisma/adapter-pg. The engine's raw statements run in
 * interactive transactions with their `?` placeholders numbered.
 */
export class PostgresPrismaService extends PgPrismaClient implements OnModuleInit, OnApplicationShutdown {
  readonly dialect = postgresDialect;
  readonly dbNull = PgPrisma.DbNull;

  constructor(config: AppConfig) {
    const pool = postgresPoolConfig(config.DATABASE_URL);
    super({
      adapter: new PrismaPg(
        // A database that is down answers within seconds (503), never hangs a request.
        {
          connectionString: pool.connectionString,
          options: pool.options,
          max: 10,
          connectionTimeoutMillis: 3000,
        },
        { schema: pool.schema },
      ),
      transactionOptions: { maxWait: 15_000, timeout: 60_000 },
    });
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }

  ping(): Promise<boolean> {
    return pingDatabase(this);
  }

  fastTransaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.$transaction((tx) => fn(numbered(tx)));
  }

  fastQuery<T>(sql: string, ...args: unknown[]): Promise<T> {
    return this.$queryRawUnsafe<T>(numberPlaceholders(sql), ...args);
  }

  fastExecute(sql: string, ...args: unknown[]): Promise<number> {
    return this.$executeRawUnsafe(numberPlaceholders(sql), ...args);
  }
}

/** Both services expose the same models and methods; Nest injects this one under PrismaService. */
export function createPostgresPrisma(config: AppConfig): PrismaService {
  return new PostgresPrismaService(config) as unknown as PrismaService;
}
