import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BACKEND_DIR, resolveSqliteUrl } from './database-url';

export const SQLITE_MIGRATIONS_DIR = path.join(BACKEND_DIR, 'prisma', 'migrations');

/** How long a migration waits for running instances' write transactions to let go. */
const BUSY_TIMEOUT_MS = 30_000;

/**
 * Applies backend/prisma/migrations to a SQLite file, each migration in one
 * `BEGIN IMMEDIATE` transaction under a busy timeout, and books them in Prisma's own
 * `_prisma_migrations` table (same columns and checksums), so `prisma migrate status`
 * and `migrate deploy` keep working on the file. Written here because `prisma migrate
 * deploy` opens its connection without a busy timeout and fails (`WASM_ERROR …
 * SocketTimeout`) while another instance of the service is writing to the same file.
 * An up-to-date file is only read: starting a second instance never waits for a lock.
 */
export function migrateSqlite(
  url: string | undefined,
  log: (line: string) => void = () => undefined,
  /** Applies migrations up to this one only (tests of a migration on older data). */
  until?: string,
): string[] {
  const db = new Database(resolveSqliteUrl(url), { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    const pending = () => {
      const done = new Set(
        tableExists(db)
          ? (
              db
                .prepare(
                  `SELECT "migration_name" FROM "_prisma_migrations" WHERE "finished_at" IS NOT NULL AND "rolled_back_at" IS NULL`,
                )
                .all() as { migration_name: string }[]
            ).map((r) => r.migration_name)
          : [],
      );
      return migrationNames().filter((name) => !done.has(name) && (until === undefined || name <= until));
    };
    if (pending().length === 0) return [];
    const applied: string[] = [];
    const apply = db.transaction(() => {
      // Checked again under the write lock: another starter may have applied them meanwhile.
      db.exec(PRISMA_MIGRATIONS_TABLE);
      for (const name of pending()) {
        const sql = fs.readFileSync(path.join(SQLITE_MIGRATIONS_DIR, name, 'migration.sql'), 'utf8');
        const startedAt = new Date().toISOString();
        db.exec(sql);
        db.prepare(
          `INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at", "applied_steps_count")
           VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)`,
        ).run(randomUUID(), createHash('sha256').update(sql).digest('hex'), Date.now(), name, startedAt);
        applied.push(name);
        log(`applied ${name}`);
      }
    });
    apply.immediate();
    return applied;
  } finally {
    db.close();
  }
}

function migrationNames(): string[] {
  return fs
    .readdirSync(SQLITE_MIGRATIONS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

function tableExists(db: Database.Database): boolean {
  return (
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'`).get() !==
    undefined
  );
}

/** Prisma's bookkeeping table for SQLite, as `prisma migrate deploy` creates it. */
const PRISMA_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;
