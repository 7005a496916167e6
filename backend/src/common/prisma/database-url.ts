import fs from 'node:fs';
import path from 'node:path';

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

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

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

/**
 * pg pool settings for a postgresql:// URL. A `schema` query parameter (Prisma's
 * convention) becomes the session's search_path, so tests and tenants can use their own schema.
 */
export function postgresPoolConfig(url: string): {
  connectionString: string;
  options?: string;
  schema?: string;
} {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  if (schema && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema))
    throw new Error('DATABASE_URL schema must be a plain identifier');
  return {
    connectionString: parsed.toString(),
    options: schema ? `-c search_path=${schema}` : undefined,
    schema,
  };
}
