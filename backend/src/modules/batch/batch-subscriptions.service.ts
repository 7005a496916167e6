import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppException } from '../shared/errors/app-exception';
import { ErrorCode } from '../shared/errors/error-code';
import { ModuleLogger } from '../shared/module-logger';
import {
  type ModuleUser,
  RATE_LIMITER_PORT,
  type RateLimiterPort,
  REQUEST_CONTEXT_PORT,
  type RequestContextPort,
} from '../shared/ports';
import { FeatureFlagsService } from '../feature-flags';
import type { SubscribeAck } from './batch-socket.events';
import { BatchService } from './batch.service';
import { wireSeq } from './progress-coalescer';

const BATCH_FEATURE = 'BATCH_OPERATIONS';

export type SubscriptionOutcome = {
  ack: SubscribeAck;
  batchId?: string;
  errorEvent?: { code: string; message: string; correlationId: string };
};

/**
 * Who may watch which batch over the socket: rate limit per user (SOCKET_EVENTS), a
 * well-formed batch id, the BATCH_OPERATIONS flag, and the batch visible to the user
 * (owner or admin). Answers with the ack the client gets (the snapshot and its `seq`).
 */
@Injectable()
export class BatchSubscriptions {
  private readonly logger: ModuleLogger;

  constructor(
    private readonly batches: BatchService,
    private readonly flags: FeatureFlagsService,
    @Inject(RATE_LIMITER_PORT) private readonly limiter: RateLimiterPort,
    @Inject(REQUEST_CONTEXT_PORT) private readonly context: RequestContextPort,
    logger: ModuleLogger,
  ) {
    this.logger = logger.forContext(BatchSubscriptions.name);
  }

  /**
   * Checks a subscribe/unsubscribe request and, when allowed, runs `join` (or leave)
   * before acking. A bad payload is answered by the ack alone; refusals not about the
   * payload (rate limit, internal error) also come back as an `errorEvent`.
   */
  async handle(
    user: ModuleUser,
    body: unknown,
    join: (batchId: string) => Promise<void>,
  ): Promise<SubscriptionOutcome> {
    const correlationId = randomUUID();
    const raw = (body as { batchId?: unknown } | null)?.batchId;
    const batchId = typeof raw === 'string' ? raw : undefined;
    return this.context.run({ correlationId, userId: user.userId }, async () => {
      try {
        const limit = await this.limiter.consume(`user:${user.userId}`, [
          { policy: 'SOCKET_EVENTS', cost: 1 },
        ]);
        if (!limit.allowed)
          throw new AppException(ErrorCode.RateLimited, 'Too many socket events, slow down');
        if (batchId === undefined || batchId.length === 0 || batchId.length > 64)
          throw AppException.validation('batchId must be a non-empty string of at most 64 characters');
        if (!(await this.flags.isEnabled(BATCH_FEATURE, user.userId)))
          throw new AppException(
            ErrorCode.FeatureDisabled,
            `Feature ${BATCH_FEATURE} is not enabled for you`,
          );
        const { batch, eventSeq } = await this.batches.snapshot(user, batchId);
        await join(batchId);
        return { ack: { ok: true, batch, seq: wireSeq(eventSeq, batch.finishedAt !== null) }, batchId };
      } catch (error) {
        const known = error instanceof AppException;
        if (!known) this.logger.errorWithStack('Socket event failed', error);
        const code = known ? error.code : ErrorCode.Internal;
        const message = known ? error.message : 'Internal error';
        const eventWorthy = code === ErrorCode.RateLimited || code === ErrorCode.Internal;
        return {
          ack: { ok: false, error: { code, message } },
          batchId,
          errorEvent: eventWorthy ? { code, message, correlationId } : undefined,
        };
      }
    });
  }
}
