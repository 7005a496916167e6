import { CoalescedReads } from './coalesced-reads';

const STALL_MS = 250;

/** A read function whose statements the test answers by hand, in order. */
function givenStatements() {
  const statements: {
    keys: string[];
    answer(rows: Record<string, number>): void;
    fail(error: Error): void;
  }[] = [];
  const reads = new CoalescedReads<string, number>(
    (keys) =>
      new Promise((resolve, reject) =>
        statements.push({
          keys,
          answer: (rows) => resolve(new Map(Object.entries(rows))),
          fail: reject,
        }),
      ),
    3,
    STALL_MS,
  );
  return { reads, statements };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('CoalescedReads', () => {
  it('starts a read at once when none is in flight', async () => {
    const { reads, statements } = givenStatements();
    const read = reads.load('a');
    expect(statements.map((s) => s.keys)).toEqual([['a']]);
    statements[0].answer({ a: 1 });
    await expect(read).resolves.toBe(1);
  });

  it('sends the keys asked for meanwhile together, once each, after the statement in flight', async () => {
    const { reads, statements } = givenStatements();
    const first = reads.load('a');
    const later = [reads.load('b'), reads.load('a'), reads.load('b')];
    // Nothing more may start while the first statement is out: the later callers asked after it began.
    expect(statements).toHaveLength(1);
    statements[0].answer({ a: 1 });
    await expect(first).resolves.toBe(1);
    expect(statements.map((s) => s.keys)).toEqual([['a'], ['b', 'a']]);
    statements[1].answer({ a: 10, b: 2 });
    // The second 'a' is answered by the statement that started after it was asked, not the first.
    await expect(Promise.all(later)).resolves.toEqual([2, 10, 2]);
  });

  it('answers undefined for a key without a row', async () => {
    const { reads, statements } = givenStatements();
    const read = reads.load('missing');
    statements[0].answer({});
    await expect(read).resolves.toBeUndefined();
  });

  it('asks for at most maxKeys keys per statement and sends the rest in the next', async () => {
    const { reads, statements } = givenStatements();
    const first = reads.load('a');
    const rest = ['b', 'c', 'd', 'e'].map((key) => reads.load(key));
    statements[0].answer({ a: 1 });
    await first;
    expect(statements[1].keys).toEqual(['b', 'c', 'd']);
    statements[1].answer({ b: 2, c: 3, d: 4 });
    await settled();
    expect(statements[2].keys).toEqual(['e']);
    statements[2].answer({ e: 5 });
    await expect(Promise.all(rest)).resolves.toEqual([2, 3, 4, 5]);
  });

  it('fails every caller of a failed statement, and the next statement still goes', async () => {
    const { reads, statements } = givenStatements();
    const first = reads.load('a');
    const sameStatement = [reads.load('b'), reads.load('c')];
    statements[0].fail(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    statements[1].fail(new Error('still down'));
    for (const read of sameStatement) await expect(read).rejects.toThrow('still down');
    const after = reads.load('a');
    expect(statements).toHaveLength(3);
    statements[2].answer({ a: 1 });
    await expect(after).resolves.toBe(1);
  });

  it('lets the next statement go when the one on its way is stuck, and keeps answering both', async () => {
    jest.useFakeTimers();
    try {
      const { reads, statements } = givenStatements();
      const stuck = reads.load('a');
      const behind = reads.load('b');
      jest.advanceTimersByTime(STALL_MS - 1);
      expect(statements).toHaveLength(1);
      jest.advanceTimersByTime(1);
      expect(statements.map((s) => s.keys)).toEqual([['a'], ['b']]);
      // The new statement is the one later keys wait for.
      const later = reads.load('c');
      expect(statements).toHaveLength(2);
      statements[1].answer({ b: 2 });
      await expect(behind).resolves.toBe(2);
      expect(statements[2].keys).toEqual(['c']);
      statements[2].answer({ c: 3 });
      await expect(later).resolves.toBe(3);
      statements[0].answer({ a: 1 });
      await expect(stuck).resolves.toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('turns a read function that throws at once into a rejection', async () => {
    const reads = new CoalescedReads<string, number>(() => {
      throw new Error('bad statement');
    });
    await expect(reads.load('a')).rejects.toThrow('bad statement');
    await expect(reads.load('b')).rejects.toThrow('bad statement');
  });
});
