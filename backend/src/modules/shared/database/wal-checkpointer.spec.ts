import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { holdWalCheckpointer, WAL_AUTOCHECKPOINT_PAGES, walCheckpointedFiles } from './wal-checkpointer';

/** A writer as ours are set up: WAL, and inline checkpoints only past WAL_AUTOCHECKPOINT_PAGES. */
function givenWriter(dir: string): { file: string; db: Database.Database } {
  const file = path.join(dir, 'app.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  db.exec('CREATE TABLE item (id INTEGER PRIMARY KEY, body TEXT)');
  return { file, db };
}

/** About 8 MB of rows (~2,000 pages, well under the writer's own checkpoint threshold). */
function write8Mb(db: Database.Database): void {
  const insert = db.prepare('INSERT INTO item (body) VALUES (?)');
  const body = 'x'.repeat(4000);
  for (let t = 0; t < 20; t++) db.transaction(() => Array.from({ length: 100 }, () => insert.run(body)))();
}

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe('holdWalCheckpointer', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-checkpointer-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('copies what a writer commits into the database file, which the writer alone leaves in the WAL', async () => {
    const { file, db } = givenWriter(dir);
    try {
      write8Mb(db);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Without the thread, the pages wait in the WAL until 10,000 of them are there.
      expect(fs.statSync(file).size).toBeLessThan(1_000_000);

      const release = holdWalCheckpointer(file);
      try {
        expect(await eventually(() => fs.statSync(file).size > 8_000_000)).toBe(true);
        // Nothing lost on the way: the writer reads every row back.
        expect(db.prepare('SELECT COUNT(*) AS n FROM item').get()).toEqual({ n: 2000 });
      } finally {
        await release();
      }
    } finally {
      db.close();
    }
  });

  it('runs one thread per file, ended when its last holder lets go', async () => {
    const { file, db } = givenWriter(dir);
    try {
      const first = holdWalCheckpointer(file);
      const second = holdWalCheckpointer(file);
      expect(walCheckpointedFiles()).toEqual([file]);
      await first();
      await first(); // twice is once
      expect(walCheckpointedFiles()).toEqual([file]);
      await second();
      expect(walCheckpointedFiles()).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('is no crash on a file it cannot open: the holder lets go as usual', async () => {
    const missing = path.join(dir, 'missing', 'app.db');
    const release = holdWalCheckpointer(missing);
    // The thread fails to open the file and ends; its error goes nowhere.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(release()).resolves.toBeUndefined();
    expect(walCheckpointedFiles()).toEqual([]);
    expect(fs.existsSync(missing)).toBe(false);
  });
});
