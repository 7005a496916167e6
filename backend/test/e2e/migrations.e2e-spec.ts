import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrateSqlite } from '../../src/common/prisma/sqlite-migrator';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PRISMA = path.join(ROOT, 'node_modules', '.bin', 'prisma');
const MIGRATIONS = path.join(ROOT, 'backend', 'prisma', 'migrations');

/**
 * Indexes the migrations add beyond what schema.prisma can declare (Prisma 6 has no
 * partial indexes): the retry index of BatchJobItem.
 */
const MIGRATION_ONLY_INDEXES = ['BatchJobItem_retry_idx'];

/** Tables, columns, indexes and foreign keys of a SQLite file, in a comparable form (the migration-only indexes left out). */
function describeSchema(file: string): Record<string, unknown> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_prisma_migrations' ORDER BY name`,
      )
      .all() as { name: string }[];
    return Object.fromEntries(
      tables.map(({ name }) => {
        const indexes = (
          db.prepare(`PRAGMA index_list("${name}")`).all() as { name: string; unique: number }[]
        )
          .filter((ix) => !MIGRATION_ONLY_INDEXES.includes(ix.name))
          .map((ix) => ({
            unique: ix.unique,
            columns: (db.prepare(`PRAGMA index_info("${ix.name}")`).all() as { name: string }[]).map(
              (c) => c.name,
            ),
          }))
          .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        return [
          name,
          {
            columns: db.prepare(`PRAGMA table_info("${name}")`).all(),
            indexes,
            foreignKeys: db.prepare(`PRAGMA foreign_key_list("${name}")`).all(),
          },
        ];
      }),
    );
  } finally {
    db.close();
  }
}

describe('Migrations', () => {
  it('create the retry index exactly as the file a host appends (backend/prisma/retry-index.sql)', () => {
    const statement = fs
      .readFileSync(path.join(ROOT, 'backend', 'prisma', 'retry-index.sql'), 'utf8')
      .split('\n')
      .find((line) => line.startsWith('CREATE INDEX'));
    expect(statement).toContain('WHERE "nextAttemptAt" > 0');
    for (const dir of [MIGRATIONS, path.join(ROOT, 'backend', 'prisma', 'postgres', 'migrations')])
      expect(
        fs.readFileSync(path.join(dir, '20261204000000_integer_keys', 'migration.sql'), 'utf8'),
      ).toContain(statement);
  });

  it('produce exactly the schema in schema.prisma (migrate deploy vs the schema rendered from empty)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    try {
      const migrated = path.join(dir, 'migrated.db');
      const pushed = path.join(dir, 'pushed.db');
      const run = (args: string[], file: string) =>
        execFileSync(PRISMA, args, {
          cwd: ROOT,
          env: { ...process.env, DATABASE_URL: `file:${file}` },
          stdio: 'pipe',
        }).toString();
      run(['migrate', 'deploy'], migrated);
      // `prisma db push` works offline too but its CLI lingers ~60 s before exiting; the diff is the same schema.
      const script = run(
        [
          'migrate',
          'diff',
          '--from-empty',
          '--to-schema-datamodel',
          'backend/prisma/schema.prisma',
          '--script',
        ],
        pushed,
      );
      const fresh = new Database(pushed);
      fresh.exec(script);
      fresh.close();
      expect(describeSchema(migrated)).toEqual(describeSchema(pushed));
      // The retry index is there, partial: only items queued again behind claimedSeq are in it.
      const retryIndex = new Database(migrated, { readonly: true })
        .prepare(`SELECT "sql" FROM sqlite_master WHERE type = 'index' AND name = 'BatchJobItem_retry_idx'`)
        .get() as { sql: string } | undefined;
      expect(retryIndex?.sql).toMatch(/ON "BatchJobItem"\("batchKey", "seq"\) WHERE "nextAttemptAt" > 0$/);
      const flag = new Database(migrated, { readonly: true })
        .prepare(`SELECT "enabled", "rollout" FROM "FeatureFlag" WHERE "name" = 'BATCH_OPERATIONS'`)
        .get();
      expect(flag).toEqual({ enabled: 0, rollout: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the service migrator makes the same schema as `prisma migrate deploy`, books it so Prisma agrees, and waits for a writer', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    try {
      const ours = path.join(dir, 'ours.db');
      const theirs = path.join(dir, 'theirs.db');
      const env = (file: string) => ({ ...process.env, DATABASE_URL: `file:${file}` });
      execFileSync(PRISMA, ['migrate', 'deploy'], { cwd: ROOT, env: env(theirs), stdio: 'pipe' });
      // Another process holds the write lock for a second while the migrator starts: it waits, then applies.
      const holder = spawn(
        process.execPath,
        [
          '-e',
          `const db = new (require('better-sqlite3'))(${JSON.stringify(ours)});
           db.pragma('journal_mode = WAL'); db.exec('CREATE TABLE "Busy" ("x" INTEGER)');
           db.exec('BEGIN IMMEDIATE'); db.exec('INSERT INTO "Busy" VALUES (1)');
           console.log('locked'); setTimeout(() => { db.exec('COMMIT'); db.close(); }, 1000);`,
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      const migrations = fs.readdirSync(MIGRATIONS).filter((name) => /^\d/.test(name));
      expect(migrateSqlite(`file:${ours}`)).toEqual(migrations);
      await new Promise((resolve) => holder.once('exit', resolve));
      expect(migrateSqlite(`file:${ours}`)).toEqual([]);
      const sqlite = new Database(ours);
      sqlite.exec('DROP TABLE "Busy"');
      sqlite.close();
      expect(describeSchema(ours)).toEqual(describeSchema(theirs));
      const status = execFileSync(PRISMA, ['migrate', 'status'], {
        cwd: ROOT,
        env: env(ours),
        stdio: 'pipe',
      });
      expect(status.toString()).toContain('Database schema is up to date');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
