import { numberPlaceholders } from './sql-dialect';

describe('numberPlaceholders', () => {
  it('numbers the placeholders outside quoted strings and identifiers', () => {
    expect(numberPlaceholders(`SELECT "a?" FROM t WHERE x = ? AND y = 'what?' AND z IN (?, ?)`)).toBe(
      `SELECT "a?" FROM t WHERE x = $1 AND y = 'what?' AND z IN ($2, $3)`,
    );
  });

  it('keeps doubled quotes inside a string as part of it', () => {
    expect(numberPlaceholders(`SELECT 'it''s ?', ? WHERE "we""ird?" = ?`)).toBe(
      `SELECT 'it''s ?', $1 WHERE "we""ird?" = $2`,
    );
  });

  it('answers the same text for a statement it has numbered before, and leaves one without placeholders as it is', () => {
    const sql = `UPDATE t SET a = ? WHERE b = ?`;
    expect(numberPlaceholders(sql)).toBe(`UPDATE t SET a = $1 WHERE b = $2`);
    expect(numberPlaceholders(sql)).toBe(`UPDATE t SET a = $1 WHERE b = $2`);
    expect(numberPlaceholders(`SELECT 1`)).toBe(`SELECT 1`);
    expect(numberPlaceholders(`?`)).toBe(`$1`);
  });

  it('numbers any number of distinct texts (more than it keeps)', () => {
    for (let i = 0; i < 2_500; i++) expect(numberPlaceholders(`SELECT ${i}, ?`)).toBe(`SELECT ${i}, $1`);
  });
});
