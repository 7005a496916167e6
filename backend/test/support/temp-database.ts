import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { migratePostgres } from '../../src/common/prisma/postgres-migrator';

export interface TempDatabase {
  /** A temp directory for this test's files (logs). */
  dir: string;
  /** The SQLite file ('' on PostgreSQL). */
  file: string;
  url: string;
  remove(): Promise<void>;
}

export const TEST_BACKEND = process.env.TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/**
 * A fresh, migrated database for one test file: a SQLite file copied from the global
 * template, or (TEST_BACKEND=postgres) a new schema in the local PostgreSQL, dropped afterwards.
 */
export async function givenDatabase(): Promise<TempDatabase> {
  return TEST_BACKEND === 'sqlite' ? givenTempDatabase() : givenPostgresSchema();
}

/** A new, migrated schema in the local PostgreSQL (whatever TEST_BACKEND says), dropped by `remove`. */
export async function givenPostgresSchema(): Promise<TempDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-ops-pg-'));
  const schema = `t_${process.pid}_${randomUUID().slice(0, 8)}`;
  const url = `${TEST_POSTGRES_URL}?schema=${schema}`;
  await migratePostgres(url);
  return {
    dir,
    file: '',
    url,
    remove: async () => {
      const client = new Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh, migrated SQLite file in its own temp directory (copied from the global template). */
export function givenTempDatabase(): TempDatabase {
  const template = process.env.TEST_TEMPLATE_DB;
  if (!template) throw new Error('TEST_TEMPLATE_DB is not set: run through jest (global setup)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batch-ops-test-'));
  const file = path.join(dir, 'app.db');
  fs.copyFileSync(template, file);
  return {
    dir,
    file,
    url: `file:${file}`,
    remove: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
