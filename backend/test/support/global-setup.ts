import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Migrates one template SQLite file with the real `prisma migrate deploy`; each test copies it. */
export default function globalSetup(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-ops-template-'));
  const file = path.join(dir, 'template.db');
  const root = path.resolve(__dirname, '..', '..', '..');
  execFileSync(path.join(root, 'node_modules', '.bin', 'prisma'), ['migrate', 'deploy'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: `file:${file}` },
    stdio: 'pipe',
  });
  process.env.TEST_TEMPLATE_DB = file;
  // The crash and multi-process tests spawn the real compiled server.
  execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'pipe',
  });
}
