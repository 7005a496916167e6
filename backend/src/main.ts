import v8 from 'node:v8';
import { ConfigValidationError, loadConfig } from './common/config/app-config';
import { createApp } from './bootstrap';
import { AppLogger } from './common/logger/app-logger';

/**
 * HEAP_GROWING_PERCENT > 0: V8 grows the heap by that much after a full collection instead of
 * its own, larger, factor (0, the default), unless `--heap-growing-percent` is on node's command
 * line (node refuses it in NODE_OPTIONS). A memory-for-latency trade, measured both ways (README,
 * *Many open batches*): at 20, 300 users × 10 sockets with a 2,000-item batch each peaked at
 * 291–299 instead of 374–377 MB, but `GET /batches/:id` under 10 clients had its p99 raised by
 * the extra full collections (SQLite idle 17 vs 13–15 ms, busy 21–23 vs 16–17 ms).
 */
function boundHeapGrowth(percent: number): void {
  if (percent > 0 && !process.execArgv.some((arg) => /heap[-_]growing[-_]percent/.test(arg)))
    v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  boundHeapGrowth(config.HEAP_GROWING_PERCENT);
  const app = await createApp(config);
  const logger = app.get(AppLogger).forContext('Main');
  // The last line of defence for "no outage ends the process": a rejected promise nobody
  // awaited (a library's background reconnection, say) is logged, not fatal.
  process.on('unhandledRejection', (reason) => logger.errorWithStack('Unhandled promise rejection', reason));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info(`${signal} received: shutting down (workers stop, then connections close)`, { signal });
      // Nest's shutdown hooks stop the HTTP server and the workers; this bounds how long that may take.
      setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS).unref();
    });
  }
  await app.listen(config.PORT);
  logger.info(`Listening on http://localhost:${config.PORT} (docs at /docs)`, { port: config.PORT });
}

void main();
