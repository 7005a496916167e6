import { uuidV7 } from './uuid-v7';

describe(uuidV7.name, () => {
  it('is a version-7 RFC 9562 UUID carrying the millisecond timestamp', () => {
    const sut = uuidV7(Date.UTC(2026, 10, 28, 12));
    expect(sut).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(sut.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.UTC(2026, 10, 28, 12));
  });

  it('sorts by time and does not repeat', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => uuidV7(1_700_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(Array.from({ length: 10_000 }, () => uuidV7())).size).toBe(10_000);
  });
});
