import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  ArgumentsHost,
  Catch,
  Controller,
  ExceptionFilter,
  Get,
  Global,
  HttpException,
  Module,
  Req,
  UseGuards,
  ValidationPipe,
} from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { JwtModule, JwtService } from '@nestjs/jwt';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request, Response } from 'express';
import { BatchModule, BatchOpsCoreModule, createEngineDatabase } from '../../src/modules/batch';
import { FeatureFlagsModule } from '../../src/modules/feature-flags';
import { authAdapter, contextAdapter, loggerAdapter } from './batch-ports.adapters';
import { HostJwtAuthGuard, HostPublic, type HostUser } from './host-auth.guard';
import { correlationIdMiddleware, getCorrelationId } from './host-context';
import { HostLoggerService } from './host-logger.service';
import { HostPrismaService } from './host-prisma.service';
import { HostProgressGateway } from './host-progress.gateway';
import { HostRateLimitingService } from './host-rate-limiting.service';

export interface HostAppConfig {
  databaseFile: string;
  logFile: string;
  batchesPerHour: number;
  workers?: number;
  leaseMs?: number;
}

/** The host's error filter: its body, plus the `code`, `details` and headers the modules' errors carry. */
@Catch()
class HostExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    const status = exception instanceof HttpException ? exception.getStatus() : 500;
    // As the real host's filter: its own shape, one code per status, no `code`, no `details`,
    // no headers of the exception.
    const errorCode =
      status === 401 || status === 403 ? 'AUTH_ERROR' : status === 429 ? 'RATE_LIMIT' : 'ERROR';
    res.status(status).json({
      statusCode: status,
      errorCode,
      message: exception instanceof Error ? exception.message : 'Internal server error',
      correlationId: getCorrelationId(),
      timestamp: new Date().toISOString(),
      path: req.url,
      method: req.method,
    });
  }
}

/** A host route, guarded the host's way (per controller). */
@Controller('profile')
@UseGuards(HostJwtAuthGuard)
class HostProfileController {
  @Get()
  me(@Req() req: Request & { user?: HostUser }) {
    return req.user;
  }
}

@Controller('health')
class HostHealthController {
  @Get()
  @HostPublic()
  health() {
    return { status: 'ok' };
  }
}

/** The host monolith's AppModule: its own services, plus the two modules wired to them. */
export function hostAppModule(config: HostAppConfig) {
  /** The host's common services (its `common/`), global as in the monolith. */
  @Global()
  @Module({
    imports: [JwtModule.register({})],
    providers: [
      { provide: HostPrismaService, useFactory: () => new HostPrismaService(config.databaseFile) },
      { provide: HostLoggerService, useFactory: () => new HostLoggerService(config.logFile) },
      HostRateLimitingService,
      HostProgressGateway,
    ],
    exports: [JwtModule, HostPrismaService, HostLoggerService, HostRateLimitingService, HostProgressGateway],
  })
  class HostCommonModule {}

  @Module({
    imports: [
      HostCommonModule,
      // The host's ports, once for both modules.
      BatchOpsCoreModule.forRootAsync({
        inject: [HostPrismaService, HostLoggerService, JwtService],
        useFactory: (prisma: HostPrismaService, logger: HostLoggerService, jwt: JwtService) => ({
          prisma,
          logger: loggerAdapter(logger),
          context: contextAdapter,
          auth: authAdapter(jwt, prisma),
          adminRoles: ['ADMIN'],
        }),
      }),
      FeatureFlagsModule.forRoot({ cacheMs: 0 }),
      BatchModule.forRoot({
        database: createEngineDatabase(`file:${config.databaseFile}`),
        // No rateLimiter: the host's limiter has no all-or-nothing call, so the module charges
        // its policies itself, in its own RateLimit table.
        rateLimits: {
          BATCH_OPERATIONS: { limit: config.batchesPerHour, windowMs: 3_600_000 },
          SOCKET_EVENTS: { limit: 1000, windowMs: 60_000 },
        },
        // The test host opts in to diagnostics.echo (a host gets it only when it asks).
        diagnostics: true,
        settings: {
          pollMs: 20,
          workers: config.workers ?? 1,
          leaseMs: config.leaseMs ?? 30_000,
          progressIntervalMs: 100,
        },
      }),
    ],
    controllers: [HostHealthController, HostProfileController],
    // No global guard: as in the real host, each of its controllers puts its own.
    providers: [{ provide: APP_FILTER, useClass: HostExceptionFilter }],
  })
  class HostAppModule {}
  return HostAppModule;
}

export async function createHostApp(config: HostAppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(hostAppModule(config), {
    logger: false,
    bodyParser: false,
  });
  // As the real host: JSON bodies up to 50 MB.
  app.useBodyParser('json', { limit: '50mb' });
  // As the real host: every HTTP route under /api (sockets are not prefixed).
  app.setGlobalPrefix('api');
  app.use(correlationIdMiddleware);
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  // As the real host: no enableShutdownHooks().
  return app;
}

/**
 * Creates the host's database the way the integration guide says: the SQL of
 * `prisma migrate diff --from-empty --to-schema-datamodel <host schema> --script`,
 * then the BATCH_OPERATIONS flag row (present and off, as the contract wants).
 */
const SEED_MIGRATION = 'backend/prisma/migrations/20261128000001_seed_batch_operations_flag/migration.sql';
const RETRY_INDEX = 'backend/prisma/retry-index.sql';

export function prepareHostDatabase(file: string): void {
  const root = path.resolve(__dirname, '..', '..', '..');
  const sql = execFileSync(
    path.join(root, 'node_modules', '.bin', 'prisma'),
    [
      'migrate',
      'diff',
      '--from-empty',
      '--to-schema-datamodel',
      path.join(__dirname, 'prisma', 'schema.prisma'),
      '--script',
    ],
    { cwd: root, env: { ...process.env, DATABASE_URL: `file:${file}` }, stdio: 'pipe' },
  ).toString();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(sql);
  // What the guide says to append: BATCH_OPERATIONS present and off, and the retry index.
  db.exec(fs.readFileSync(path.join(root, SEED_MIGRATION), 'utf8'));
  db.exec(fs.readFileSync(path.join(root, RETRY_INDEX), 'utf8'));
  // The host's users carry their role; everyone else is a PARTICIPANT.
  db.prepare(`INSERT INTO "User" ("id", "email", "role") VALUES ('root', 'root@host.test', 'ADMIN')`).run();
  db.close();
}
