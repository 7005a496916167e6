/* Applies pending migrations for DATABASE_URL: SQLite through `prisma migrate deploy`, PostgreSQL through the project's migrator. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { isPostgresUrl } from '../src/common/prisma/database-url';
import { migratePostgres } from '../src/common/prisma/postgres-migrator';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL ?? '';
  if (isPostgresUrl(url)) {
    const applied = await migratePostgres(url, (line) => console.log(line));
    console.log(
      applied.length === 0 ? 'PostgreSQL schema is up to date' : `applied ${applied.length} migration(s)`,
    );
    return;
  }
  const root = path.resolve(__dirname, '..', '..');
  const prisma = path.join(root, 'node_modules', '.bin', 'prisma');
  execFileSync(prisma, ['migrate', 'deploy'], { cwd: root, stdio: 'inherit' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
