import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { Prisma, PrismaClient } from '@prisma/client';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { SQLITE_PRAGMAS } from '../../modules/shared/database/engine-database';
import { resolveSqliteUrl } from './database-url';
import { SerializedSqliteAdapterFactory } from './serialized-sqlite-adapter';
import { pingDatabase, type SqlExecutor } from '../../modules/shared/database/sql-executor';
import { SqliteFastPath } from '../../modules/shared/database/sqlite-fast-path';
import { sqliteDialect } from '../../modules/shared/database/sql-dialect';
import { holdWalCheckpointer } from '../../modules/shared/database/wal-checkpointer';

/** The Prisma client over the better-sqlite3 driver adapter (no query-engine binary). */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleInit, OnApplicationShutdown {
  readonly databasePath: string;
  readonly dialect = sqliteDialect;
  /** SQL NULL for Json columns of this client. */
  readonly dbNull: typeof Prisma.DbNull = Prisma.DbNull;
  private readonly adapterFactory: SerializedSqliteAdapterFactory;
  private fastPath: SqliteFastPath | null = null;
  private releaseCheckpointer: () => Promise<void> = async () => undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const databasePath = resolveSqliteUrl(config.DATABASE_URL);
    const adapterFactory = new SerializedSqliteAdapterFactory(new PrismaBetterSQLite3({ url: databasePath }));
    super({
      adapter: adapterFactory,
      transactionOptions: { maxWait: 15_000, timeout: 60_000 },
    });
    this.databasePath = databasePath;
    this.adapterFactory = adapterFactory;
  }

  /**
   * A write transaction for hot paths: prepared statements on the same connection when
   * available (SQLite), else an interactive Prisma transaction. Either way `fn` gets the
   * raw-query API and everything it runs commits or rolls back together.
   */
  async fastTransaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const fast = this.sqliteFastPath();
    return fast ? fast.transaction(fn) : this.$transaction((tx) => fn(tx));
  }

  /** One raw statement on the fast path when available. */
  async fastQuery<T>(sql: string, ...args: unknown[]): Promise<T> {
    const fast = this.sqliteFastPath();
    return fast ? fast.query<T>(sql, ...args) : this.$queryRawUnsafe<T>(sql, ...args);
  }

  async fastExecute(sql: string, ...args: unknown[]): Promise<number> {
    const fast = this.sqliteFastPath();
    return fast ? fast.execute(sql, ...args) : this.$executeRawUnsafe(sql, ...args);
  }

  private sqliteFastPath(): SqliteFastPath | null {
    const connection = this.adapterFactory.connection;
    if (!connection) return null;
    this.fastPath ??= new SqliteFastPath(connection.lock, connection.db);
    return this.fastPath;
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
    for (const pragma of SQLITE_PRAGMAS) await this.$queryRawUnsafe(`PRAGMA ${pragma}`);
    this.releaseCheckpointer = holdWalCheckpointer(this.databasePath);
  }

  /** Last step of shutdown, after the workers (onModuleDestroy) have finished their chunks. */
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
    await this.releaseCheckpointer();
  }

  ping(): Promise<boolean> {
    return pingDatabase(this);
  }
}
