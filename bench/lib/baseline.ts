import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

/**
 * The physical limit to compare against, exactly as ../shared/toolchain.md defines it:
 * raw better-sqlite3, WAL, synchronous=NORMAL, prepared statements; insert N rows
 * (id TEXT PRIMARY KEY, batchId, seq, status, payload TEXT, result TEXT) 500 per
 * transaction, then `UPDATE … SET status, result WHERE id = ?` for each row, 500 per
 * transaction; items/s = N / total time, after a 2,000-row warm-up.
 */
export function rawBaseline(count: number): { ms: number; itemsPerSecond: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-raw-'));
  const db = new Database(path.join(dir, 'raw.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(
      `CREATE TABLE item (id TEXT PRIMARY KEY, batchId TEXT, seq INTEGER, status TEXT, payload TEXT, result TEXT)`,
    );
    const insert = db.prepare(
      `INSERT INTO item (id, batchId, seq, status, payload) VALUES (?, ?, ?, 'queued', ?)`,
    );
    const update = db.prepare(`UPDATE item SET status = ?, result = ? WHERE id = ?`);
    const inserts = db.transaction((batch: string, from: number, to: number) => {
      for (let i = from; i < to; i++) insert.run(`${batch}.${i}`, batch, i, JSON.stringify({ n: i }));
    });
    const updates = db.transaction((batch: string, from: number, to: number) => {
      for (let i = from; i < to; i++) update.run('success', JSON.stringify({ n: i }), `${batch}.${i}`);
    });
    const pass = (batch: string, n: number) => {
      for (let i = 0; i < n; i += 500) inserts(batch, i, Math.min(n, i + 500));
      for (let i = 0; i < n; i += 500) updates(batch, i, Math.min(n, i + 500));
    };
    pass('warmup', 2000);
    const started = process.hrtime.bigint();
    pass('measured', count);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    return { ms, itemsPerSecond: (count / ms) * 1000 };
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
