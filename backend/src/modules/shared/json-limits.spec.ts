import { hasUnstorableJsonText, hasUnstorableText, jsonDepth, MAX_JSON_DEPTH } from './json-limits';

describe('hasUnstorableJsonText', () => {
  const NUL = String.fromCharCode(0);
  const HIGH = String.fromCharCode(0xd83d);
  const LOW = String.fromCharCode(0xde00);
  const cases: [string, unknown, boolean][] = [
    ['plain text', { s: 'hello' }, false],
    ['a NUL in a value', { s: `a${NUL}b` }, true],
    ['a NUL in a key', { [`k${NUL}`]: 1 }, true],
    ['a lone high surrogate', { s: `x${HIGH}` }, true],
    ['a lone low surrogate', { s: `${LOW}x` }, true],
    ['a surrogate pair (an emoji)', { s: `${HIGH}${LOW}` }, false],
    ['the six characters \\u0000', { s: '\\u0000' }, false],
    ['a backslash, then a NUL', { s: `\\${NUL}` }, true],
    ['two backslashes and the text u0000', { s: '\\\\u0000' }, false],
    ['the text \\ud800', { s: '\\ud800' }, false],
    ['a backslash, then a lone surrogate', { s: `\\${HIGH}` }, true],
    ['other control characters', { s: '\u0001\u001f\n\t' }, false],
    ['deep in an array', { a: [1, { b: [`${NUL}`] }] }, true],
    ['numbers and nulls', { n: 0, z: null, t: true }, false],
  ];
  it.each(cases)('agrees with the value walk: %s', (_name, value, unstorable) => {
    expect(hasUnstorableText(value)).toBe(unstorable);
    expect(hasUnstorableJsonText(JSON.stringify(value))).toBe(unstorable);
  });

  it('agrees with the value walk on random strings of backslashes, u, digits, NULs and surrogates', () => {
    const alphabet = ['\\', 'u', '0', 'd', '8', 'a', NUL, HIGH, LOW, 'x'];
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 5000; i++) {
      const s = Array.from(
        { length: 1 + Math.floor(random() * 8) },
        () => alphabet[Math.floor(random() * 10)],
      ).join('');
      const value = { [i % 2 ? 'k' : s]: s };
      expect([s, hasUnstorableJsonText(JSON.stringify(value))]).toEqual([s, hasUnstorableText(value)]);
    }
  });
});

describe('jsonDepth', () => {
  const nested = (levels: number): unknown => (levels === 0 ? 1 : { a: [nested(levels - 1)] });
  it.each([
    ['a scalar', 'x', 0],
    ['null', null, 0],
    ['an empty object', {}, 1],
    ['an empty array', [], 1],
    ['a flat object', { n: 1, s: 'x', z: null, t: true }, 1],
    ['a flat array', [1, 'x', null], 1],
    ['an object holding an empty array', { a: [] }, 2],
    ['nested objects and arrays', { a: [{ b: { c: 1 } }] }, 4],
    ['an array of objects', [{ n: 1 }, { m: [2] }], 3],
  ])('%s', (_name, value, depth) => {
    expect(jsonDepth(value)).toBe(depth);
  });

  it('stops counting just past the limit, however deep the value goes', () => {
    expect(jsonDepth(nested(10))).toBe(20);
    expect(jsonDepth(nested(1000))).toBe(MAX_JSON_DEPTH + 1);
  });
});
