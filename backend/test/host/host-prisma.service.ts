import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '.prisma/host-client';

/**
 * The host's PrismaService over its own schema. (A monolith's client runs on Prisma's
 * native engine; these machines cannot download it, so this one takes the stock SQLite
 * adapter. The batch engine does not ride on it either way: it opens its own connection.)
 */
@Injectable()
export class HostPrismaService extends PrismaClient implements OnModuleInit, OnModuleDestroy {
  constructor(file: string) {
    super({ adapter: new PrismaBetterSQLite3({ url: file }) });
  }

  async onModuleInit(): Promise<void> {
    await this.$connect();
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
