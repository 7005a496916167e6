import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service';
import type { SqlExecutor } from '../../modules/shared/database/sql-executor';

type Tx = SqlExecutor;

export interface WindowHit {
  identifier: string;
  policy: string;
  windowStart: number;
  expiresAt: number;
  cost: number;
  limit: number;
}

/** All SQL of the database-backed limiter. */
@Injectable()
export class RateLimitRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Adds `cost` to the window's counter in one atomic statement, only if the result
   * stays within `limit`. Returns the new count, or null when the hit was refused
   * (the counter is then unchanged). Concurrent hits serialize on the row, so N hits
   * against a limit L let exactly L through.
   */
  async tryConsume(tx: Tx, hit: WindowHit): Promise<number | null> {
    const rows = await tx.$queryRawUnsafe<{ count: number | bigint }[]>(
      `INSERT INTO "RateLimit" ("identifier", "policy", "windowStart", "count", "expiresAt")
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT ("identifier", "policy", "windowStart")
       DO UPDATE SET "count" = "RateLimit"."count" + excluded."count"
       WHERE "RateLimit"."count" + excluded."count" <= ?
       RETURNING "count"`,
      hit.identifier,
      hit.policy,
      hit.windowStart,
      hit.cost,
      hit.expiresAt,
      hit.limit,
    );
    return rows.length > 0 ? Number(rows[0].count) : null;
  }

  async currentCount(identifier: string, policy: string, windowStart: number): Promise<number> {
    const rows = await this.prisma.fastQuery<{ count: number | bigint }[]>(
      `SELECT "count" FROM "RateLimit" WHERE "identifier" = ? AND "policy" = ? AND "windowStart" = ?`,
      identifier,
      policy,
      windowStart,
    );
    return rows.length > 0 ? Number(rows[0].count) : 0;
  }

  /** Deletes windows that ended before `now`; returns how many. */
  async deleteExpired(now: number): Promise<number> {
    return this.prisma.fastExecute(`DELETE FROM "RateLimit" WHERE "expiresAt" < ?`, now);
  }
}
