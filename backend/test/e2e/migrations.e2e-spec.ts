import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PRISMA = path.join(ROOT, 'node_modules', '.bin', 'prisma');

/** Tables, columns, indexes and foreign keys of a SQLite file, in a comparable form. */
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
      const flag = new Database(migrated, { readonly: true })
        .prepare(`SELECT "enabled", "rollout" FROM "FeatureFlag" WHERE "name" = 'BATCH_OPERATIONS'`)
        .get();
      expect(flag).toEqual({ enabled: 0, rollout: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
