import path from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import serveStatic from 'serve-static';
import { AppModule, AppOverrides } from './app.module';
import { AppConfig } from './common/config/app-config';
import { correlationMiddleware, reenterContextMiddleware } from './common/context/correlation.middleware';
import { AppLogger } from './common/logger/app-logger';
import { httpMetricsMiddleware } from './common/metrics/http-metrics.middleware';
import { MetricsService } from './common/metrics/metrics.service';
import { buildOpenApiDocument } from './common/openapi/openapi-document';
import { BACKEND_DIR } from './common/prisma/database-url';
import { RedisIoAdapter } from './common/redis/redis-io.adapter';

/**
 * The web page's files. Only GET / and paths with a file extension reach serve-static,
 * so API requests do not pay for a file-system lookup.
 */
function staticPage(root: string) {
  const serve = serveStatic(root, { index: ['index.html'] });
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' && (req.path === '/' || /\.[a-z0-9]+$/i.test(req.path))) serve(req, res, next);
    else next();
  };
}

/** Builds the HTTP application (shared by main.ts, the tests and the benchmarks). */
export async function createApp(
  config: AppConfig,
  overrides: AppOverrides = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, overrides), {
    bufferLogs: true,
    bodyParser: false,
  });
  const logger = app.get(AppLogger);
  app.useLogger(logger);
  app.set('trust proxy', config.TRUST_PROXY_HOPS);
  app.disable('x-powered-by');
  // Correlation first, so even a body-parser error carries the request's id.
  app.use(correlationMiddleware);
  app.use(httpMetricsMiddleware(app.get(MetricsService)));
  app.useBodyParser('json', { limit: config.MAX_BODY_BYTES });
  app.use(reenterContextMiddleware);
  // The operator page, bundled from web/ by `npm run build` (web/build.mjs).
  app.use(staticPage(path.join(BACKEND_DIR, '..', 'dist', 'web')));
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document);
  if (config.REDIS_URL)
    app.useWebSocketAdapter(new RedisIoAdapter(app, config.REDIS_URL, config.REDIS_KEY_PREFIX));
  app.enableShutdownHooks();
  return app;
}
