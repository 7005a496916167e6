import { JwtService } from '@nestjs/jwt';
import { DEV_JWT_SECRET } from '../../src/common/config/app-config';

/** Polls `check` every 25 ms until it holds; fails with `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const jwt = new JwtService();

/** A token signed with the development secret, as spawned server processes use it. */
export const devToken = (userId: string, roles: string[] = []) =>
  jwt.sign({ sub: userId, roles }, { secret: DEV_JWT_SECRET, expiresIn: 3600 });

export const devAuth = (userId: string, roles: string[] = []) => ({
  Authorization: `Bearer ${devToken(userId, roles)}`,
});

/**
 * Rate-limit windows are whole multiples of their length on the clock (an hour policy's
 * window ends on the hour): a test that counts requests up to a 429 fails if a window
 * ends in the middle of it. Call it first; near a window's end it waits for the next one.
 */
export async function clearOfWindowEnd(windowMs: number, needMs = 30_000): Promise<void> {
  const leftMs = windowMs - (Date.now() % windowMs);
  if (leftMs < needMs) await new Promise((r) => setTimeout(r, leftMs + 50));
}
