import { Inject, Injectable } from '@nestjs/common';
import { PrismaClient } from '@prisma/client';
import type { SqlExecutor } from '../shared/database/sql-executor';
import { ENGINE_DATABASE, type EngineDatabase, PRISMA_CLIENT } from '../shared/ports';

export interface IdempotencyRow {
  fingerprint: string;
  state: string;
  batchId: string | null;
  expiresAt: bigint | number;
  createdAt: unknown;
}

/** A key as a new (or taken-over) request holds it. */
export interface KeyClaim {
  userId: string;
  key: string;
  fingerprint: string;
  expiresAt: number;
  now: number;
}

/** All SQL of Idempotency-Key records, one row per (user, key). */
@Injectable()
export class IdempotencyRepository {
  constructor(
    @Inject(ENGINE_DATABASE) private readonly db: EngineDatabase,
    @Inject(PRISMA_CLIENT) private readonly prisma: PrismaClient,
  ) {}

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  /** Inserts the key as in progress; false when it exists. Of concurrent first requests exactly one inserts. */
  async insertInProgress(tx: SqlExecutor, claim: KeyClaim): Promise<boolean> {
    const d = this.db.dialect;
    const inserted = await tx.$queryRawUnsafe<unknown[]>(
      `INSERT INTO "IdempotencyRecord" ("userId", "key", "fingerprint", "state", "batchId", "expiresAt", "createdAt")
       VALUES (?, ?, ?, 'in_progress', NULL, ?, ${d.ts})
       ON CONFLICT ("userId", "key") DO NOTHING RETURNING "key"`,
      claim.userId,
      claim.key,
      claim.fingerprint,
      claim.expiresAt,
      d.timestamp(claim.now),
    );
    return inserted.length > 0;
  }

  /** The existing record, locked for the rest of the transaction. */
  async findForUpdate(tx: SqlExecutor, userId: string, key: string): Promise<IdempotencyRow> {
    const [row] = await tx.$queryRawUnsafe<IdempotencyRow[]>(
      `SELECT "fingerprint", "state", "batchId", "expiresAt", "createdAt" FROM "IdempotencyRecord"
       WHERE "userId" = ? AND "key" = ?${this.db.dialect.forUpdate}`,
      userId,
      key,
    );
    return row;
  }

  /** An expired or abandoned key, taken over by a new request. */
  async takeOver(tx: SqlExecutor, claim: KeyClaim): Promise<void> {
    const d = this.db.dialect;
    await tx.$executeRawUnsafe(
      `UPDATE "IdempotencyRecord" SET "fingerprint" = ?, "state" = 'in_progress', "batchId" = NULL, "expiresAt" = ?, "createdAt" = ${d.ts}
       WHERE "userId" = ? AND "key" = ?`,
      claim.fingerprint,
      claim.expiresAt,
      d.timestamp(claim.now),
      claim.userId,
      claim.key,
    );
  }

  async markCompleted(userId: string, key: string, batchId: string): Promise<void> {
    await this.prisma.idempotencyRecord.update({
      where: { userId_key: { userId, key } },
      data: { state: 'completed', batchId },
    });
  }

  async deleteInProgress(userId: string, key: string): Promise<void> {
    await this.prisma.idempotencyRecord.deleteMany({ where: { userId, key, state: 'in_progress' } });
  }

  async deleteExpired(now: number): Promise<number> {
    const { count } = await this.prisma.idempotencyRecord.deleteMany({
      where: { expiresAt: { lt: BigInt(now) } },
    });
    return count;
  }
}
