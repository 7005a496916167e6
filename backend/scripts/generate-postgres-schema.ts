/*
 * Writes backend/prisma/postgres/schema.prisma from the SQLite schema (the source of
 * truth). Run after every change to schema.prisma: npm run db:generate-postgres.
 * A test fails when the committed file is stale.
 */
import fs from 'node:fs';
import path from 'node:path';

const PRISMA_DIR = path.resolve(__dirname, '..', 'prisma');
export const SQLITE_SCHEMA = path.join(PRISMA_DIR, 'schema.prisma');
export const POSTGRES_SCHEMA = path.join(PRISMA_DIR, 'postgres', 'schema.prisma');

export function renderPostgresSchema(sqlite: string): string {
  const replaced = sqlite
    .replace(/provider\s*=\s*"sqlite"/, 'provider = "postgresql"')
    .replace(/url\s*=\s*"file:[^"]*"/, 'url      = "postgresql://localhost/placeholder"')
    .replace(
      /engineType = "client"\n/,
      'engineType = "client"\n  // A second client beside the SQLite one; PrismaService picks by DATABASE_URL.\n  output     = "../../../node_modules/.prisma/pg-client"\n',
    );
  if (replaced === sqlite)
    throw new Error('schema.prisma did not have the expected generator/datasource blocks');
  return `// GENERATED from ../schema.prisma by backend/scripts/generate-postgres-schema.ts: do not edit.\n${replaced}`;
}

if (require.main === module) {
  fs.mkdirSync(path.dirname(POSTGRES_SCHEMA), { recursive: true });
  fs.writeFileSync(POSTGRES_SCHEMA, renderPostgresSchema(fs.readFileSync(SQLITE_SCHEMA, 'utf8')));
  console.log(`wrote ${path.relative(process.cwd(), POSTGRES_SCHEMA)}`);
}
