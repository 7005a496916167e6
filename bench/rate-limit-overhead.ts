import { inProcessApp } from './lib/in-process';
import { RateLimitingService } from '../backend/src/common/rate-limit/rate-limiting.service';
import { percentile } from './lib/stats';

/** Per-request cost of a database-backed policy charge: one consume() (an atomic upsert in a transaction). */
export async function rateLimitOverhead(requests: number): Promise<{ p50: number; p99: number }> {
  const { app, close } = await inProcessApp({ RATE_LIMIT_GENERAL: '100000000/3600' });
  const limiter = app.get(RateLimitingService);
  const timings: number[] = [];
  for (let i = 0; i < requests; i++) {
    const t = performance.now();
    await limiter.consume(`user:bench-${i % 50}`, [{ policy: 'GENERAL', cost: 1 }]);
    timings.push(performance.now() - t);
  }
  await close();
  return { p50: percentile(timings, 50), p99: percentile(timings, 99) };
}
