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
