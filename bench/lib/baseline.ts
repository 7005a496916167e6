import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

/**
 * The physical limit to compare against: raw better-sqlite3 doing the engine's
 * bookkeeping for `count` items (insert each item, claim it, mark it done, bump the
 * batch counters), prepared statements, 500 items per transaction, WAL, synchronous=NORMAL.
 */
export function rawBookkeeping(count: number): { ms: number; itemsPerSecond: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-raw-'));
  const db = new Database(path.join(dir, 'raw.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`CREATE TABLE batch (id TEXT PRIMARY KEY, processed INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE item (id TEXT PRIMARY KEY, batch_id TEXT NOT NULL, seq INTEGER NOT NULL, payload TEXT NOT NULL,
                                status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, result TEXT, lease TEXT);
             CREATE INDEX item_claim ON item (batch_id, status, seq);
             INSERT INTO batch (id) VALUES ('b');`);
    const insert = db.prepare(
      `INSERT INTO item (id, batch_id, seq, payload, status) VALUES (?, 'b', ?, ?, 'queued')`,
    );
    const claim = db.prepare(
      `UPDATE item SET status = 'processing', attempts = attempts + 1, lease = ? WHERE id = ?`,
    );
    const done = db.prepare(
      `UPDATE item SET status = 'success', result = ?, lease = NULL WHERE id = ? AND lease = ?`,
    );
    const counters = db.prepare(`UPDATE batch SET processed = processed + ? WHERE id = 'b'`);
    const started = process.hrtime.bigint();
    const insertChunk = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) insert.run(`i${i}`, i, JSON.stringify({ n: i }));
    });
    for (let i = 0; i < count; i += 500) insertChunk(i, Math.min(count, i + 500));
    const processChunk = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) claim.run('lease', `i${i}`);
      for (let i = from; i < to; i++) done.run(JSON.stringify({ n: i }), `i${i}`, 'lease');
      counters.run(to - from);
    });
    for (let i = 0; i < count; i += 500) processChunk(i, Math.min(count, i + 500));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    return { ms, itemsPerSecond: (count / ms) * 1000 };
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
