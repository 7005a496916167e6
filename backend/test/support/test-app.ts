import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import type { AppOverrides } from '../../src/app.module';
import { createApp } from '../../src/bootstrap';
import { AppConfig, loadConfig } from '../../src/common/config/app-config';
import { TokenService } from '../../src/common/auth/token.service';
import { PrismaService } from '../../src/common/prisma/prisma.service';
import { givenRedisPrefix, REDIS_URL } from './redis';
import { givenDatabase, TempDatabase, TEST_BACKEND } from './temp-database';

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  db: TempDatabase;
  baseUrl: string;
  prisma: PrismaService;
  http: () => ReturnType<typeof request>;
  tokenFor(userId: string, options?: { admin?: boolean; expiresInSeconds?: number }): string;
  close(): Promise<void>;
}

/**
 * A real application on a real SQLite file in a temp dir, listening on a random
 * loopback port. `env` overrides configuration like the process environment would.
 */
export async function givenApp(
  env: Record<string, string> = {},
  given?: TempDatabase,
  overrides: AppOverrides = {},
): Promise<TestApp> {
  const db = given ?? (await givenDatabase());
  // The conformance run (TEST_BACKEND=postgres) uses PostgreSQL and Redis together.
  const redis = TEST_BACKEND === 'postgres' && !env.REDIS_URL ? givenRedisPrefix() : null;
  const config = loadConfig({
    ...(redis ? { REDIS_URL, REDIS_KEY_PREFIX: redis.prefix } : {}),
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    LOG_DIR: `${db.dir}/logs`,
    LOG_CONSOLE: 'false',
    BATCH_POLL_MS: '20',
    RATE_LIMIT_THROTTLE_DEFAULT: '100000/60',
    ...env,
  });
  const app = await createApp(config, overrides);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const tokens = app.get(TokenService);
  return {
    app,
    config,
    db,
    baseUrl,
    prisma: app.get(PrismaService),
    http: () => request(baseUrl),
    tokenFor: (userId, options = {}) =>
      tokens.sign(userId, options.admin ? ['admin'] : [], options.expiresInSeconds ?? 3600),
    close: async () => {
      await app.close();
      await db.remove();
      await redis?.cleanup();
    },
  };
}
