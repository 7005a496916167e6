import { ChunkPace } from './chunk-pace';

describe('ChunkPace', () => {
  it('gives an operation it has not measured a small first chunk', () => {
    const pace = new ChunkPace(500);
    expect(pace.sizeFor('op', 100)).toBe(8);
    expect(pace.sizeFor('op', 3)).toBe(3);
  });

  it('keeps full chunks for a fast operation', () => {
    const pace = new ChunkPace(500);
    pace.ran('fast', 8, 0.4);
    expect(pace.sizeFor('fast', 500)).toBe(500);
  });

  it('cuts chunks of a slow operation to what runs in the target time, never below one item', () => {
    const pace = new ChunkPace(500);
    pace.ran('slow', 8, 800); // 100 ms per item
    expect(pace.sizeFor('slow', 100)).toBe(5);
    pace.ran('glacial', 1, 10_000);
    expect(pace.sizeFor('glacial', 100)).toBe(1);
  });

  it('follows a change of pace gradually, per operation', () => {
    const pace = new ChunkPace(500);
    pace.ran('op', 10, 1000); // 100 ms
    pace.ran('op', 10, 100); // 10 ms: average 0.7 * 100 + 0.3 * 10 = 73 ms
    expect(pace.sizeFor('op', 100)).toBe(6);
    expect(pace.sizeFor('other', 100)).toBe(8);
    pace.ran('op', 0, 5000);
    expect(pace.sizeFor('op', 100)).toBe(6);
  });
});
