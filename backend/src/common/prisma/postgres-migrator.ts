import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { BACKEND_DIR, postgresPoolConfig } from './database-url';

export const POSTGRES_MIGRATIONS_DIR = path.join(BACKEND_DIR, 'prisma', 'postgres', 'migrations');

/**
 * Applies backend/prisma/postgres/migrations in order, each in its own transaction,
 * under an advisory lock so concurrent starters do not race. Written here because
 * `prisma migrate deploy` through @prisma/adapter-pg fails on PostgreSQL's `name`
 * type in Prisma 6.19 (prisma/orm#27403), and the binary engine cannot be downloaded
 * on these machines. The migration files themselves come from `prisma migrate diff`.
 */
export async function migratePostgres(
  url: string,
  log: (line: string) => void = () => undefined,
  /** Applies migrations up to this one only (tests of a migration on older data). */
  until?: string,
): Promise<string[]> {
  const config = postgresPoolConfig(url);
  const client = new Client({ connectionString: config.connectionString, options: config.options });
  await client.connect();
  const applied: string[] = [];
  try {
    if (config.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${config.schema}"`);
    await client.query('SELECT pg_advisory_lock(727274)');
    await client.query(
      `CREATE TABLE IF NOT EXISTS "_batch_ops_migrations" ("name" TEXT PRIMARY KEY, "appliedAt" TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await client.query<{ name: string }>('SELECT "name" FROM "_batch_ops_migrations"')).rows.map(
        (r) => r.name,
      ),
    );
    const names = fs
      .readdirSync(POSTGRES_MIGRATIONS_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    for (const name of names.filter((n) => !done.has(n) && (until === undefined || n <= until))) {
      const sql = fs.readFileSync(path.join(POSTGRES_MIGRATIONS_DIR, name, 'migration.sql'), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO "_batch_ops_migrations" ("name") VALUES ($1)', [name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      applied.push(name);
      log(`applied ${name}`);
    }
    await client.query('SELECT pg_advisory_unlock(727274)');
  } finally {
    await client.end();
  }
  return applied;
}
