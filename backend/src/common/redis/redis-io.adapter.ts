import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import Redis from 'ioredis';
import type { Server, ServerOptions } from 'socket.io';
import { FAIL_FAST_OPTIONS, RedisOutage } from './redis-outage';

/**
 * Socket.io over Redis pub/sub: an event emitted to a room on one instance reaches the
 * sockets of that room on every instance. While Redis is down, emits reach this
 * instance's sockets only (the adapter's publish fails fast and is caught).
 */
export class RedisIoAdapter extends IoAdapter {
  private readonly pub: Redis;
  private readonly sub: Redis;

  constructor(
    app: INestApplicationContext,
    url: string,
    private readonly keyPrefix: string,
  ) {
    super(app);
    const outage = app.get(RedisOutage);
    this.pub = outage.watch(new Redis(url, FAIL_FAST_OPTIONS));
    // The subscriber queues its (p)subscribe until connected and resubscribes after a reconnect.
    this.sub = outage.watch(new Redis(url, { ...FAIL_FAST_OPTIONS, enableOfflineQueue: true }));
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, options) as Server;
    server.adapter(createAdapter(this.pub, this.sub, { key: `${this.keyPrefix}socket.io` }));
    return server;
  }

  override async close(server: Server): Promise<void> {
    await super.close(server);
    await Promise.all([this.pub.quit(), this.sub.quit()]).catch(() => undefined);
  }
}
