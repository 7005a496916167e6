import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { ModuleLogger } from '../shared/module-logger';
import { REDIS_CONNECTION, REDIS_KEY_PREFIX } from '../shared/ports';
import { BatchEvent, BatchEventBus, BatchEventPayload } from './batch.events';
import type { ItemProgressEvent } from './batch-socket.events';

/** The events every instance relays to its sockets. */
export type RelayMessage =
  | { kind: typeof BatchEvent.Progress | typeof BatchEvent.Finished; event: BatchEventPayload }
  | { kind: typeof BatchEvent.ItemProgress; event: ItemProgressEvent };
export type RelayListener = (message: RelayMessage) => void;

/**
 * Carries the engine's committed batch events to every instance. With Redis, each
 * instance publishes its own events on one channel and every instance (itself included)
 * receives all of them, so one coalescer per instance sees the events of every worker
 * and each socket is served by the instance it is connected to: per socket, `seq` only
 * rises and at most one `batch-progress` per interval leaves, however many instances
 * process the batch. Without Redis (or while it is down) events stay in the process that
 * produced them, and every other instance reads them from the database (BatchEventPoller).
 */
@Injectable()
export class BatchEventRelay implements OnModuleInit, OnModuleDestroy {
  private readonly listeners: RelayListener[] = [];
  private readonly channel: string;
  private subscriber: Redis | null = null;
  private readonly logger: ModuleLogger;

  constructor(
    @Inject(REDIS_CONNECTION) private readonly redis: Redis | null,
    @Inject(REDIS_KEY_PREFIX) redisKeyPrefix: string,
    bus: BatchEventBus,
    logger: ModuleLogger,
  ) {
    this.channel = `${redisKeyPrefix}batch-events`;
    this.logger = logger.forContext(BatchEventRelay.name);
    bus.on(BatchEvent.Progress, (event) => this.publish({ kind: BatchEvent.Progress, event }));
    bus.on(BatchEvent.Finished, (event) => this.publish({ kind: BatchEvent.Finished, event }));
    bus.on(BatchEvent.ItemProgress, (event) => this.publish({ kind: BatchEvent.ItemProgress, event }));
  }

  onModuleInit(): void {
    if (!this.redis) return;
    // Queues SUBSCRIBE until connected and resubscribes after every reconnect; the host
    // logs outages through its own client, so errors here are only acknowledged.
    this.subscriber = this.redis.duplicate({ enableOfflineQueue: true });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      try {
        this.deliver(JSON.parse(message) as RelayMessage);
      } catch (error) {
        this.logger.errorWithStack('Dropped an unreadable batch event', error);
      }
    });
    this.subscriber.subscribe(this.channel).catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscriber?.quit().catch(() => undefined);
  }

  /** Registers a receiver of every relayed event (the gateway's coalescer). */
  listen(listener: RelayListener): void {
    this.listeners.push(listener);
  }

  /** True while events reach every instance through Redis; otherwise each instance polls (BatchEventPoller). */
  sharesEvents(): boolean {
    return this.redis !== null && this.subscriber?.status === 'ready';
  }

  private publish(message: RelayMessage): void {
    // While the subscriber is disconnected the published event would not come back here.
    if (!this.redis || this.subscriber?.status !== 'ready') {
      this.deliver(message);
      return;
    }
    this.redis.publish(this.channel, JSON.stringify(message)).catch((error: unknown) => {
      // Redis is an accelerator: without it this instance's own sockets still hear the event.
      this.logger.debug('Could not publish a batch event; delivering it locally', {
        error: error instanceof Error ? error.message : String(error),
      });
      this.deliver(message);
    });
  }

  /** Hands an event to this instance's listeners only (what the poller read from the database). */
  deliver(message: RelayMessage): void {
    for (const listener of this.listeners) listener(message);
  }
}
