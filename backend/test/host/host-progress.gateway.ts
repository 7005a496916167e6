import { Logger } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';

export interface ExtractionProgress {
  userId: string;
  stage: string;
  percentage: number;
  message: string;
  details?: unknown;
}

/** The host's existing progress gateway (theme-extraction style): a room per user id. */
@WebSocketGateway({ namespace: '/theme-extraction' })
export class HostProgressGateway {
  @WebSocketServer() server!: Server;
  private readonly logger = new Logger(HostProgressGateway.name);

  @SubscribeMessage('join')
  join(client: Socket, userId: string) {
    void client.join(userId);
    return { success: true, userId };
  }

  emitProgress(progress: ExtractionProgress): void {
    this.server.to(progress.userId).emit('extraction-progress', progress);
    this.logger.debug(`Progress to ${progress.userId}: ${progress.stage} ${progress.percentage}%`);
  }
}
