import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TempDatabase {
  dir: string;
  file: string;
  url: string;
  remove(): void;
}

/** A fresh, migrated SQLite file in its own temp directory (copied from the global template). */
export function givenTempDatabase(): TempDatabase {
  const template = process.env.TEST_TEMPLATE_DB;
  if (!template) throw new Error('TEST_TEMPLATE_DB is not set: run through jest (global setup)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-ops-test-'));
  const file = path.join(dir, 'app.db');
  fs.copyFileSync(template, file);
  return { dir, file, url: `file:${file}`, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
