import { ConfigValidationError, loadConfig } from './common/config/app-config';
import { createApp } from './bootstrap';
import { AppLogger } from './common/logger/app-logger';

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
