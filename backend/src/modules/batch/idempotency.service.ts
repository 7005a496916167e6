import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PrismaClient } from '@prisma/client';
import { Clock } from '../shared/clock';
import { AppException } from '../shared/errors/app-exception';
import { ErrorCode } from '../shared/errors/error-code';
import { ENGINE_DATABASE, type EngineDatabase, PRISMA_CLIENT } from '../shared/ports';
import { parseDbDate } from './batch-row.mapper';

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** A first request that has not finished after this long is taken as abandoned (its process died). */
const ABANDONED_AFTER_MS = 60_000;

export type IdempotencyClaim = { kind: 'fresh' } | { kind: 'replay'; batchId: string };

/** Idempotency-Key semantics of POST /batches (contract), stored per (user, key). */
@Injectable()
export class IdempotencyService {
  constructor(
    @Inject(ENGINE_DATABASE) private readonly db: EngineDatabase,
    @Inject(PRISMA_CLIENT) private readonly prisma: PrismaClient,
    private readonly clock: Clock,
  ) {}

  static validateKey(key: string | undefined): string | undefined {
    if (key === undefined) return undefined;
    if (key.length < 1 || key.length > 255) {
      throw AppException.validation('Idempotency-Key must be 1 to 255 characters', {
        errors: ['Idempotency-Key must be 1 to 255 characters'],
      });
    }
    return key;
  }

  static fingerprint(body: unknown): string {
    return createHash('sha256').update(JSON.stringify(body)).digest('hex');
  }

  /**
   * Starts a keyed request, atomically: a new (or expired, or abandoned) key is taken
   * for this request; the same key with another body is a 422; a finished request is
   * replayed; one still running is a 409.
   */
  async begin(userId: string, key: string, fingerprint: string): Promise<IdempotencyClaim> {
    const now = this.clock.now();
    const d = this.db.dialect;
    const at = d.timestamp(now);
    const expiresAt = now + IDEMPOTENCY_TTL_MS;
    return this.db.transaction(async (tx) => {
      // The insert decides between concurrent first requests: only one of them inserts.
      const inserted = await tx.$queryRawUnsafe<unknown[]>(
        `INSERT INTO "IdempotencyRecord" ("userId", "key", "fingerprint", "state", "batchId", "expiresAt", "createdAt")
         VALUES (?, ?, ?, 'in_progress', NULL, ?, ${d.ts})
         ON CONFLICT ("userId", "key") DO NOTHING RETURNING "key"`,
        userId,
        key,
        fingerprint,
        expiresAt,
        at,
      );
      if (inserted.length > 0) return { kind: 'fresh' } as const;
      const [existing] = await tx.$queryRawUnsafe<
        {
          fingerprint: string;
          state: string;
          batchId: string | null;
          expiresAt: bigint | number;
          createdAt: unknown;
        }[]
      >(
        `SELECT "fingerprint", "state", "batchId", "expiresAt", "createdAt" FROM "IdempotencyRecord"
         WHERE "userId" = ? AND "key" = ?${d.forUpdate}`,
        userId,
        key,
      );
      if (Number(existing.expiresAt) > now) {
        if (existing.fingerprint !== fingerprint) {
          throw new AppException(
            ErrorCode.IdempotencyKeyReused,
            'Idempotency-Key was used with a different request body',
          );
        }
        if (existing.state === 'completed' && existing.batchId)
          return { kind: 'replay', batchId: existing.batchId } as const;
        if ((parseDbDate(existing.createdAt)?.getTime() ?? 0) > now - ABANDONED_AFTER_MS) {
          throw new AppException(
            ErrorCode.IdempotencyInProgress,
            'A request with this Idempotency-Key is still being handled',
          );
        }
      }
      // Expired, or abandoned by a process that died: this request takes the key over.
      await tx.$executeRawUnsafe(
        `UPDATE "IdempotencyRecord" SET "fingerprint" = ?, "state" = 'in_progress', "batchId" = NULL, "expiresAt" = ?, "createdAt" = ${d.ts}
         WHERE "userId" = ? AND "key" = ?`,
        fingerprint,
        expiresAt,
        at,
        userId,
        key,
      );
      return { kind: 'fresh' } as const;
    });
  }

  async complete(userId: string, key: string, batchId: string): Promise<void> {
    await this.prisma.idempotencyRecord.update({
      where: { userId_key: { userId, key } },
      data: { state: 'completed', batchId },
    });
  }

  /** Forgets a key whose request failed, so nothing of it is stored. */
  async abandon(userId: string, key: string): Promise<void> {
    await this.prisma.idempotencyRecord.deleteMany({ where: { userId, key, state: 'in_progress' } });
  }

  async deleteExpired(): Promise<number> {
    const { count } = await this.prisma.idempotencyRecord.deleteMany({
      where: { expiresAt: { lt: BigInt(this.clock.now()) } },
    });
    return count;
  }
}
