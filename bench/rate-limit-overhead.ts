import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../backend/src/bootstrap';
import { loadConfig } from '../backend/src/common/config/app-config';
import { migrateSqlite } from '../backend/src/common/prisma/sqlite-migrator';
import { RateLimitingService } from '../backend/src/common/rate-limit/rate-limiting.service';
import { percentile } from './lib/stats';

/** Per-request cost of a database-backed policy charge: one consume() (an atomic upsert in a transaction). */
export async function rateLimitOverhead(requests: number): Promise<{ p50: number; p99: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rl-'));
  const url = `file:${path.join(dir, 'app.db')}`;
  migrateSqlite(url);
  const app = await createApp(
    loadConfig({
      DATABASE_URL: url,
      LOG_DIR: path.join(dir, 'logs'),
      LOG_CONSOLE: 'false',
      BATCH_WORKERS: '0',
      RATE_LIMIT_GENERAL: '100000000/3600',
    }),
  );
  await app.init();
  const limiter = app.get(RateLimitingService);
  const timings: number[] = [];
  for (let i = 0; i < requests; i++) {
    const t = performance.now();
    await limiter.consume(`user:bench-${i % 50}`, [{ policy: 'GENERAL', cost: 1 }]);
    timings.push(performance.now() - t);
  }
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { p50: percentile(timings, 50), p99: percentile(timings, 99) };
}
