import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock } from '../shared/clock';
import { AppException } from '../shared/errors/app-exception';
import { ErrorCode } from '../shared/errors/error-code';
import { IdempotencyRepository } from './idempotency.repository';
import { parseDbDate } from './batch-row.mapper';

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** A first request that has not finished after this long is taken as abandoned (its process died). */
const ABANDONED_AFTER_MS = 60_000;

export type IdempotencyClaim = { kind: 'fresh' } | { kind: 'replay'; batchId: string };

/** Idempotency-Key semantics of POST /batches (contract), stored per (user, key). */
@Injectable()
export class IdempotencyService {
  constructor(
    private readonly repository: IdempotencyRepository,
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
    const claim = { userId, key, fingerprint, expiresAt: now + IDEMPOTENCY_TTL_MS, now };
    return this.repository.transaction(async (tx) => {
      if (await this.repository.insertInProgress(tx, claim)) return { kind: 'fresh' } as const;
      const existing = await this.repository.findForUpdate(tx, userId, key);
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
      await this.repository.takeOver(tx, claim);
      return { kind: 'fresh' } as const;
    });
  }

  async complete(userId: string, key: string, batchId: string): Promise<void> {
    await this.repository.markCompleted(userId, key, batchId);
  }

  /** Forgets a key whose request failed, so nothing of it is stored. */
  async abandon(userId: string, key: string): Promise<void> {
    await this.repository.deleteInProgress(userId, key);
  }

  async deleteExpired(): Promise<number> {
    return this.repository.deleteExpired(this.clock.now());
  }
}
