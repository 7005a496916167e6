import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createApp } from '../../backend/src/bootstrap';
import { loadConfig } from '../../backend/src/common/config/app-config';
import { migrateSqlite } from '../../backend/src/common/prisma/sqlite-migrator';

/** The app in this process on a fresh SQLite file, without workers (for per-call costs); `close` removes the file. */
export async function inProcessApp(
  env: Record<string, string> = {},
): Promise<{ app: INestApplication; close(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-app-'));
  const url = `file:${path.join(dir, 'app.db')}`;
  migrateSqlite(url);
  const app = await createApp(
    loadConfig({
      DATABASE_URL: url,
      LOG_DIR: path.join(dir, 'logs'),
      LOG_CONSOLE: 'false',
      BATCH_WORKERS: '0',
      ...env,
    }),
  );
  await app.init();
  return {
    app,
    close: async () => {
      await app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
