import type Redis from 'ioredis';
import type { AppLogger } from '../logger/app-logger';

/**
 * Redis is an accelerator here (fan-out, shared counters, flag pushes), never where data
 * lives. Every ioredis client of the process reports to one tracker, which logs the
 * outage once when the first client loses its connection and once when it is back
 * (ioredis otherwise prints `Unhandled error event` for every reconnection attempt, and an
 * unhandled 'error' event would end the process).
 */
export class RedisOutage {
  private down = false;
  private since = 0;

  constructor(private readonly logger: AppLogger) {}

  get isDown(): boolean {
    return this.down;
  }

  /** Attaches the error and ready listeners every client needs; returns the client. */
  watch<T extends Redis>(client: T): T {
    client.on('error', (error: Error) => this.failed(error));
    client.on('ready', () => this.recovered());
    return client;
  }

  /** A command failed because Redis is unreachable: note it (once per outage). */
  failed(error: unknown): void {
    if (this.down) return;
    this.down = true;
    this.since = Date.now();
    this.logger.warn(
      'Redis is unreachable: limits fall back to the database and this process, events stay local',
      {
        error: error instanceof Error ? error.message : String(error),
      },
    );
  }

  private recovered(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info('Redis is back: shared limits, fan-out and flag pushes resume', {
      outageMs: Date.now() - this.since,
    });
  }
}

/** Commands fail fast while disconnected (callers fall back); reconnection goes on forever, backing off to 2 s. */
export const FAIL_FAST_OPTIONS = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  retryStrategy: (attempt: number) => Math.min(200 * attempt, 2000),
};
