import path from 'node:path';

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/** The file of a `file:` URL, resolved against `baseDir` when relative. */
export function sqliteFileOf(url: string, baseDir: string): string {
  const file = url.replace(/^file:/, '').replace(/\?.*$/, '');
  return path.isAbsolute(file) ? file : path.resolve(baseDir, file);
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
