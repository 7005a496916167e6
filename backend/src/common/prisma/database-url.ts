import fs from 'node:fs';
import path from 'node:path';
export { isPostgresUrl, postgresPoolConfig } from '../../modules/shared/database/database-url';

function findRepoRoot(start: string): string {
  let dir = start;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return start;
    dir = parent;
  }
  return dir;
}

/** Directory that relative SQLite paths in DATABASE_URL are resolved against. */
export const BACKEND_DIR = path.join(findRepoRoot(__dirname), 'backend');

export const DEFAULT_DATABASE_URL = 'file:./data/app.db';

/**
 * Turns a `file:` URL into an absolute SQLite path (relative paths are taken
 * from `backend/`, as the contract says) and creates its directory.
 */
export function resolveSqliteUrl(url: string | undefined): string {
  const raw = url && url.length > 0 ? url : DEFAULT_DATABASE_URL;
  const file = raw.replace(/^file:/, '').replace(/\?.*$/, '');
  const absolute = path.isAbsolute(file) ? file : path.resolve(BACKEND_DIR, file);
  fs.mkdirSync(path.dirname(absolute), { recursive: true });
  return absolute;
}
