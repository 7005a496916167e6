/* Applies pending migrations for DATABASE_URL, safely while other instances of the service run on the same database. */
import { isPostgresUrl } from '../src/common/prisma/database-url';
import { migratePostgres } from '../src/common/prisma/postgres-migrator';
import { migrateSqlite } from '../src/common/prisma/sqlite-migrator';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL ?? '';
  const log = (line: string) => console.log(line);
  const postgres = isPostgresUrl(url);
  const applied = postgres ? await migratePostgres(url, log) : migrateSqlite(url, log);
  const what = postgres ? 'PostgreSQL' : 'SQLite';
  console.log(
    applied.length === 0 ? `${what} schema is up to date` : `applied ${applied.length} ${what} migration(s)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
