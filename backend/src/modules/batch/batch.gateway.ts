import { randomUUID } from 'node:crypto';
import { Inject, OnModuleDestroy } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import { AuthUser } from '../../common/auth/auth-user';
import { TokenService } from '../../common/auth/token.service';
import { Clock } from '../../common/clock/clock';
import { AppConfig } from '../../common/config/app-config';
import { APP_CONFIG } from '../../common/config/config.module';
import { RequestContext } from '../../common/context/request-context';
import { AppException } from '../../common/errors/app-exception';
import { ErrorCode } from '../../common/errors/error-code';
import { AppLogger } from '../../common/logger/app-logger';
import { RateLimitingService } from '../../common/rate-limit/rate-limiting.service';
import { FeatureFlagsService } from '../feature-flags/feature-flags.service';
import {
  BatchProgressEvent,
  HostProgressEvent,
  ServerToClientEvents,
  SubscribeAck,
} from './batch-socket.events';
import { BatchEventRelay } from './batch-event-relay';
import { BatchEvent, BatchEventPayload } from './batch.events';
import { BatchService } from './batch.service';
import { ProgressCoalescer, ProgressRate, wireSeq } from './progress-coalescer';

const BATCH_FEATURE = 'BATCH_OPERATIONS';
/** setTimeout cannot wait longer than this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface SocketData {
  user: AuthUser;
}

type BatchSocket = Socket<Record<string, never>, ServerToClientEvents, Record<string, never>, SocketData>;

export const userRoom = (userId: string) => `user:${userId}`;
const batchRoom = (batchId: string) => `batch:${batchId}`;

/**
 * Live batch progress over Socket.io. Authenticates in the connection middleware,
 * puts each socket in its user's room, and relays the engine's committed events,
 * coalesced, to the owner's room (and to admins who subscribed to the batch).
 */
@WebSocketGateway({ namespace: '/batches', cors: { origin: true } })
export class BatchGateway implements OnGatewayInit, OnGatewayConnection, OnModuleDestroy {
  @WebSocketServer() private server: Namespace<Record<string, never>, ServerToClientEvents>;
  private readonly coalescer: ProgressCoalescer;
  private readonly logger: AppLogger;

  constructor(
    private readonly tokens: TokenService,
    private readonly batches: BatchService,
    private readonly flags: FeatureFlagsService,
    private readonly limiter: RateLimitingService,
    private readonly clock: Clock,
    relay: BatchEventRelay,
    @Inject(APP_CONFIG) config: AppConfig,
    logger: AppLogger,
  ) {
    this.logger = logger.forContext(BatchGateway.name);
    this.coalescer = new ProgressCoalescer(
      config.PROGRESS_INTERVAL_MS,
      () => this.clock.now(),
      (fn, ms) => {
        const timer = setTimeout(fn, ms);
        return () => clearTimeout(timer);
      },
      {
        progress: (event, seq, rate) =>
          this.emitToWatchers(event, 'batch-progress', this.toWire(event, seq, rate)),
        complete: (event, seq, rate) =>
          this.emitToWatchers(event, 'batch-complete', {
            ...this.toWire(event, seq, rate),
            stage: 'finished',
            finishedAt: event.batch.finishedAt,
          }),
      },
    );
    relay.listen((kind, event) =>
      kind === BatchEvent.Finished ? this.coalescer.onFinished(event) : this.coalescer.onProgress(event),
    );
  }

  afterInit(server: Namespace): void {
    server.use((socket, next) => {
      const token: unknown = socket.handshake.auth?.token;
      void this.tokens.verify(typeof token === 'string' ? token : undefined).then((user) => {
        if (!user) {
          this.logger.security('socket.auth_failed', { ip: socket.handshake.address });
          const error = new Error('UNAUTHENTICATED') as Error & { data: unknown };
          error.data = { code: ErrorCode.Unauthenticated };
          next(error);
          return;
        }
        (socket.data as SocketData).user = user;
        next();
      });
    });
  }

  handleConnection(socket: BatchSocket): void {
    const { user } = socket.data;
    if (!user) return;
    void socket.join(userRoom(user.userId));
    if (user.exp) {
      // The token's expiry ends the session.
      const timer = setTimeout(
        () => socket.disconnect(true),
        Math.min(MAX_TIMER_MS, Math.max(0, user.exp * 1000 - Date.now())),
      );
      socket.once('disconnect', () => clearTimeout(timer));
    }
  }

  onModuleDestroy(): void {
    this.coalescer.dispose();
  }

  /** Ack: the batch's current snapshot from the database, so a late or reconnecting client starts from the truth. */
  @SubscribeMessage('subscribe')
  async subscribe(
    @ConnectedSocket() socket: BatchSocket,
    @MessageBody() body: unknown,
  ): Promise<SubscribeAck> {
    return this.handle(socket, body, async (user, batchId) => {
      const { batch, eventSeq } = await this.batches.snapshot(user, batchId);
      await socket.join(batchRoom(batchId));
      return { ok: true, batch, seq: wireSeq(eventSeq, batch.finishedAt !== null) };
    });
  }

  @SubscribeMessage('unsubscribe')
  async unsubscribe(
    @ConnectedSocket() socket: BatchSocket,
    @MessageBody() body: unknown,
  ): Promise<SubscribeAck> {
    return this.handle(socket, body, async (user, batchId) => {
      const { batch, eventSeq } = await this.batches.snapshot(user, batchId);
      await socket.leave(batchRoom(batchId));
      return { ok: true, batch, seq: wireSeq(eventSeq, batch.finishedAt !== null) };
    });
  }

  /** The host's progress shape, for code that already renders theme-extraction progress. */
  emitProgress(userId: string, event: HostProgressEvent): void {
    this.server.to(userRoom(userId)).emit('progress', event);
  }

  private async handle(
    socket: BatchSocket,
    body: unknown,
    action: (user: AuthUser, batchId: string) => Promise<SubscribeAck>,
  ): Promise<SubscribeAck> {
    const user = socket.data.user;
    const correlationId = randomUUID();
    const batchId = (body as { batchId?: unknown } | null)?.batchId;
    return RequestContext.run({ correlationId, userId: user.userId }, async () => {
      try {
        const limit = await this.limiter.consume(`user:${user.userId}`, [
          { policy: 'SOCKET_EVENTS', cost: 1 },
        ]);
        if (!limit.allowed)
          throw new AppException(ErrorCode.RateLimited, 'Too many socket events, slow down');
        if (typeof batchId !== 'string' || batchId.length === 0 || batchId.length > 64) {
          throw AppException.validation('batchId must be a non-empty string of at most 64 characters');
        }
        if (!(await this.flags.isEnabled(BATCH_FEATURE, user.userId))) {
          throw new AppException(
            ErrorCode.FeatureDisabled,
            `Feature ${BATCH_FEATURE} is not enabled for you`,
          );
        }
        return await action(user, batchId);
      } catch (error) {
        const code = error instanceof AppException ? error.code : ErrorCode.Internal;
        const message = error instanceof AppException ? error.message : 'Internal error';
        if (!(error instanceof AppException)) this.logger.errorWithStack('Socket event failed', error);
        // A bad payload is answered by the ack alone; refusals that are not about the payload are also events.
        if (code === ErrorCode.RateLimited || code === ErrorCode.Internal) {
          socket.emit('batch-error', {
            batchId: typeof batchId === 'string' ? batchId : undefined,
            code,
            message,
            correlationId,
          });
        }
        return { ok: false, error: { code, message } };
      }
    });
  }

  private emitToWatchers<E extends 'batch-progress' | 'batch-complete'>(
    event: BatchEventPayload,
    name: E,
    payload: Parameters<ServerToClientEvents[E]>[0],
  ): void {
    // Local sockets only: every instance relays every batch's events to the sockets it holds.
    const rooms = [userRoom(event.batch.userId), batchRoom(event.batch.id)];
    (this.server.local.to(rooms).emit as (ev: string, p: unknown) => boolean)(name, payload);
  }

  private toWire(event: BatchEventPayload, seq: number, rate: ProgressRate): BatchProgressEvent {
    const b = event.batch;
    return {
      batchId: b.id,
      userId: b.userId,
      seq,
      status: b.status,
      stage: 'processing',
      percentage: b.percentage,
      itemCount: b.itemCount,
      processedCount: b.processedCount,
      succeededCount: b.succeededCount,
      failedCount: b.failedCount,
      cancelledCount: b.cancelledCount,
      message: `Processed ${b.processedCount} of ${b.itemCount} items`,
      correlationId: b.correlationId,
      details: rate,
      at: new Date(event.committedAt).toISOString(),
    };
  }
}
