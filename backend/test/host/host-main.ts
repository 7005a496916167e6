/* The host monolith as its own process (crash tests): HOST_DB, HOST_LOG, PORT. */
import { createHostApp } from './host-app';

async function main(): Promise<void> {
  const app = await createHostApp({
    databaseFile: process.env.HOST_DB ?? '',
    logFile: process.env.HOST_LOG ?? '',
    batchesPerHour: 1000,
    leaseMs: Number(process.env.HOST_LEASE_MS ?? 30_000),
  });
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  // As the real host's main.ts: SIGTERM ends the process at once, no shutdown hooks run.
  process.on('SIGTERM', () => process.exit(0));
}

void main();
