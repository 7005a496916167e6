import { Inject } from '@nestjs/common';
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
import { ErrorCode } from '../shared/errors/error-code';
import { ModuleLogger } from '../shared/module-logger';
import {
  AUTH_PORT,
  type AuthPort,
  isAdmin,
  METRICS_PORT,
  type MetricsPort,
  type ModuleUser,
} from '../shared/ports';
import { FlagRolloutEvents } from '../feature-flags';
import { BatchSubscriptions } from './batch-subscriptions.service';
import type { ServerToClientEvents, SubscribeAck } from './batch-socket.events';
import type { ItemProgressEvent } from './batch-socket.events';

/** setTimeout cannot wait longer than this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface SocketData {
  user: ModuleUser;
}

type BatchSocket = Socket<Record<string, never>, ServerToClientEvents, Record<string, never>, SocketData>;

const USER_ROOM = 'user:';
const BATCH_ROOM = 'batch:';
/** Admins' sockets: rollout plans' transitions go there. */
const ADMIN_ROOM = 'admins';
export const userRoom = (userId: string) => `${USER_ROOM}${userId}`;
const batchRoom = (batchId: string) => `${BATCH_ROOM}${batchId}`;

/**
 * The `/batches` Socket.io namespace, transport only: authenticates the handshake
 * through the host (AuthPort), puts each socket in its user's room, ends it when the
 * token expires, hands subscribe/unsubscribe to BatchSubscriptions, and emits what the
 * broadcaster gives it to this instance's sockets.
 */
@WebSocketGateway({ namespace: '/batches', cors: { origin: true } })
export class BatchGateway implements OnGatewayInit, OnGatewayConnection {
  @WebSocketServer() private server!: Namespace<Record<string, never>, ServerToClientEvents>;
  private readonly logger: ModuleLogger;

  constructor(
    @Inject(AUTH_PORT) private readonly auth: AuthPort,
    private readonly subscriptions: BatchSubscriptions,
    @Inject(METRICS_PORT) private readonly metrics: MetricsPort,
    rollouts: FlagRolloutEvents,
    logger: ModuleLogger,
  ) {
    this.logger = logger.forContext(BatchGateway.name);
    // Every instance hears every transition once (it reads the plans), so this instance's sockets only.
    rollouts.on((event) => this.server?.local.to(ADMIN_ROOM).emit('flag-rollout', event));
  }

  afterInit(server: Namespace): void {
    server.use((socket, next) => {
      const { auth, headers, address } = socket.handshake;
      void this.auth
        .authenticateSocket({ auth: auth ?? {}, headers, address })
        .catch(() => null)
        .then((user) => {
          if (!user) {
            this.logger.security('socket.auth_failed', { ip: address });
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
    void socket.join(isAdmin(user) ? [userRoom(user.userId), ADMIN_ROOM] : userRoom(user.userId));
    this.metrics.increment('batch_socket_connections', {});
    socket.once('disconnect', () => this.metrics.increment('batch_socket_connections', {}, -1));
    if (user.exp) {
      // The token's expiry ends the session.
      const timer = setTimeout(
        () => socket.disconnect(true),
        Math.min(MAX_TIMER_MS, Math.max(0, user.exp * 1000 - Date.now())),
      );
      socket.once('disconnect', () => clearTimeout(timer));
    }
  }

  /** Ack: the batch's current snapshot and its `seq`, so a late or reconnecting client starts from the truth. */
  @SubscribeMessage('subscribe')
  subscribe(@ConnectedSocket() socket: BatchSocket, @MessageBody() body: unknown): Promise<SubscribeAck> {
    return this.answer(socket, body, (batchId) => socket.join(batchRoom(batchId)));
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: BatchSocket, @MessageBody() body: unknown): Promise<SubscribeAck> {
    return this.answer(socket, body, (batchId) => socket.leave(batchRoom(batchId)));
  }

  /** Who listens on this instance: users with a socket here, and batches a socket here subscribed to. */
  localAudience(): { users: string[]; batches: string[] } {
    const users: string[] = [];
    const batches: string[] = [];
    for (const room of this.server?.adapter.rooms.keys() ?? []) {
      if (room.startsWith(USER_ROOM)) users.push(room.slice(USER_ROOM.length));
      else if (room.startsWith(BATCH_ROOM)) batches.push(room.slice(BATCH_ROOM.length));
    }
    return { users, batches };
  }

  /** To the sockets of this instance in the owner's room or watching the batch (each socket once). */
  emitToWatchers<E extends 'batch-progress' | 'batch-complete'>(
    userId: string,
    batchId: string,
    name: E,
    payload: Parameters<ServerToClientEvents[E]>[0],
  ): void {
    // Local only: every instance relays every batch's events to the sockets it holds.
    (
      this.server.local.to([userRoom(userId), batchRoom(batchId)]).emit as (ev: string, p: unknown) => boolean
    )(name, payload);
  }

  /** `item-progress` to this instance's sockets that subscribed to the batch. */
  emitItemProgress(event: ItemProgressEvent): void {
    this.server.local.to(batchRoom(event.batchId)).emit('item-progress', event);
  }

  private async answer(
    socket: BatchSocket,
    body: unknown,
    join: (batchId: string) => Promise<void> | void,
  ): Promise<SubscribeAck> {
    const outcome = await this.subscriptions.handle(socket.data.user, body, async (id) => join(id));
    if (outcome.errorEvent) socket.emit('batch-error', { batchId: outcome.batchId, ...outcome.errorEvent });
    return outcome.ack;
  }
}
