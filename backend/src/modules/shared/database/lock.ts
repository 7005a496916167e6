import { setTimeout as sleep } from 'node:timers/promises';

/** How long a write waits for another connection's write lock before it gives up (503 DATABASE_BUSY). */
export const SQLITE_BUSY_DEADLINE_MS = 5000;

/**
 * A FIFO lock; `run` holds it for the duration of one async call. Also the one place
 * that waits for SQLite's write lock: the connection's own busy timeout is a few
 * milliseconds (better-sqlite3 waits synchronously, blocking the event loop), and a
 * busy write is retried here asynchronously, with the lock released in between, so
 * reads and HTTP go on while another process holds the file's write lock.
 */
export class Lock {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const ready = this.tail.then(() => release);
    this.tail = this.tail.then(() => held);
    return ready;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Like `run`, trying `fn` again while it fails busy (lock released in between), up to the deadline. */
  runRetryingBusy<T>(fn: () => Promise<T>, isBusy: (error: unknown) => boolean): Promise<T> {
    return retryBusy(() => this.run(fn), isBusy);
  }

  /**
   * Acquires the lock and runs `begin` (e.g. BEGIN IMMEDIATE) under it; while `begin`
   * fails busy, lets go of the lock and tries again. Returns the release function with
   * the lock held.
   */
  acquireForWrite(begin: () => Promise<void>, isBusy: (error: unknown) => boolean): Promise<() => void> {
    return retryBusy(async () => {
      const release = await this.acquire();
      try {
        await begin();
        return release;
      } catch (error) {
        release();
        throw error;
      }
    }, isBusy);
  }
}

/** Waits 5 ms doubling to 100 ms between attempts, until SQLITE_BUSY_DEADLINE_MS. */
async function retryBusy<T>(attempt: () => Promise<T>, isBusy: (error: unknown) => boolean): Promise<T> {
  const deadline = Date.now() + SQLITE_BUSY_DEADLINE_MS;
  for (let wait = 5; ; wait = Math.min(100, wait * 2)) {
    try {
      return await attempt();
    } catch (error) {
      if (!isBusy(error) || Date.now() + wait > deadline) throw error;
    }
    await sleep(wait);
  }
}
