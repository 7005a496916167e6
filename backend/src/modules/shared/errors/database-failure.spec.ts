import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
import { databaseFailure } from './database-failure';

describe(databaseFailure.name, () => {
  it("reads an ORM timeout that wraps the SQLite adapter's busy answer as busy, on every route", () => {
    const adapterBusy = { name: 'DriverAdapterError', cause: { kind: 'SocketTimeout' } };
    const ormTimeout = Object.assign(new Error('Operation has timed out'), {
      code: 'P1008',
      cause: adapterBusy,
    });
    expect(databaseFailure(ormTimeout, 'sqlite')).toBe('busy');
    expect(
      databaseFailure(Object.assign(new Error('Operation has timed out'), { code: 'P1008' }), 'sqlite'),
    ).toBe('busy');
    expect(databaseFailure(Object.assign(new Error('timed out'), { code: 'P1008' }), 'postgres')).toBe(
      'unavailable',
    );
  });

  it('calls a SQLite write lock held by another connection busy', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'failure-'));
    const holder = new Database(path.join(dir, 'a.db'));
    const other = new Database(path.join(dir, 'a.db'), { timeout: 0 });
    try {
      holder.exec('CREATE TABLE t (n INTEGER); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)');
      const error = (() => {
        try {
          other.exec('INSERT INTO t VALUES (2)');
        } catch (e) {
          return e;
        }
      })();
      expect(databaseFailure(error, 'sqlite')).toBe('busy');
    } finally {
      holder.close();
      other.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('calls the victim of a PostgreSQL deadlock busy (the transaction rolled back whole; try again)', async () => {
    const table = `deadlock_${process.pid}_${Date.now()}`;
    const [a, b] = [new Client(TEST_POSTGRES_URL), new Client(TEST_POSTGRES_URL)];
    await Promise.all([a.connect(), b.connect()]);
    try {
      await a.query(
        `CREATE TABLE ${table} (id int PRIMARY KEY, n int); INSERT INTO ${table} VALUES (1, 0), (2, 0)`,
      );
      await a.query('BEGIN');
      await b.query('BEGIN');
      await a.query(`UPDATE ${table} SET n = 1 WHERE id = 1`);
      await b.query(`UPDATE ${table} SET n = 1 WHERE id = 2`);
      const settled = await Promise.allSettled([
        a.query(`UPDATE ${table} SET n = 2 WHERE id = 2`),
        b.query(`UPDATE ${table} SET n = 2 WHERE id = 1`),
      ]);
      const victim = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      expect((victim?.reason as { code?: string }).code).toBe('40P01');
      expect(databaseFailure(victim?.reason, 'postgres')).toBe('busy');
      expect(databaseFailure(new Error('syntax error at or near "SELEC"'), 'postgres')).toBeNull();
    } finally {
      await Promise.allSettled([a.query('ROLLBACK'), b.query('ROLLBACK')]);
      await a.query(`DROP TABLE IF EXISTS ${table}`);
      await Promise.all([a.end(), b.end()]);
    }
  });
});
