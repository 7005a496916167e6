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
  // The operator page the servers serve (dist/web).
  execFileSync(process.execPath, [path.join(root, 'web', 'build.mjs')], { cwd: root, stdio: 'pipe' });
  process.env.CHROMIUM_PATH ??= bundledChromium(root);
}

/**
 * The Chromium that ships inside the `@sparticuz/chromium` npm package (unpacked to the
 * temp directory at first use), so the browser tests need nothing installed by hand.
 * That package is ESM, so it is asked from a child process. Falls back to Debian's.
 */
function bundledChromium(root: string): string {
  try {
    return execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import chromium from '@sparticuz/chromium'; process.stdout.write(await chromium.executablePath())",
      ],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 },
    ).trim();
  } catch {
    return '/usr/bin/chromium';
  }
}
