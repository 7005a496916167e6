import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateSqlite } from '../../src/common/prisma/sqlite-migrator';

/** Migrates one template SQLite file with the service's own migrator (what `npm start` runs); each test copies it. */
export default function globalSetup(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-ops-template-'));
  const file = path.join(dir, 'template.db');
  const root = path.resolve(__dirname, '..', '..', '..');
  migrateSqlite(`file:${file}`);
  process.env.TEST_TEMPLATE_DB = file;
  // The crash and multi-process tests spawn the real compiled server.
  execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'pipe',
  });
}
