import type { EngineDatabase } from '../../modules/shared/ports';
import type { PrismaService } from '../prisma/prisma.service';

/** The engine's statements on Prisma's own SQLite connection (prepared statements), or pg through Prisma. */
export function prismaEngineDatabase(prisma: PrismaService): EngineDatabase {
  return {
    dialect: prisma.dialect,
    transaction: (fn) => prisma.fastTransaction(fn),
    query: (sql, ...args) => prisma.fastQuery(sql, ...args),
    execute: (sql, ...args) => prisma.fastExecute(sql, ...args),
  };
}
