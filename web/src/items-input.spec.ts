import { itemProblems, type JsonSchema, parseCsv, readItems } from './items-input';

const papers: JsonSchema = {
  type: 'object',
  properties: {
    title: { type: 'string', maxLength: 500 },
    doi: { type: 'string', pattern: '^10\\.\\d{4,9}\\/\\S+$' },
    year: { type: 'integer', minimum: 1000, maximum: 2100 },
  },
  required: ['title'],
};

describe('readItems (the page’s items box)', () => {
  it('says what is wrong with empty, non-JSON and non-array input instead of throwing', () => {
    expect(readItems('  ', papers)).toEqual({
      ok: false,
      error: expect.stringContaining('at least one item'),
    });
    expect(readItems('[{"title": }]', papers)).toEqual({
      ok: false,
      error: expect.stringMatching(/^The items are not valid JSON/),
    });
    expect(readItems('{"title": "x"}', papers)).toEqual({
      ok: false,
      error: expect.stringContaining('must be a JSON array'),
    });
    expect(readItems('[]', papers)).toEqual({ ok: false, error: expect.stringContaining('empty') });
    expect(readItems('[{"title": "a"}, 3]', papers)).toEqual({
      ok: false,
      error: 'Item 1 is not an object: every item must be {…}.',
    });
  });

  it('reads a CSV by the operation’s fields, typed, and refuses a header that names none of them', () => {
    expect(readItems('title,doi,year\nOn Batches,10.1000/x,2020\n"A, quoted ""title""",,', papers)).toEqual({
      ok: true,
      format: 'csv',
      items: [{ title: 'On Batches', doi: '10.1000/x', year: 2020 }, { title: 'A, quoted "title"' }],
    });
    const wrong = readItems('name,identifier\nx,y', papers);
    expect(wrong).toEqual({
      ok: false,
      error: expect.stringContaining('Unknown columns “name”, “identifier”'),
    });
    expect(readItems('doi\n10.1000/x', papers)).toEqual({
      ok: false,
      error: 'The header lacks the required column title.',
    });
  });

  it('reads an exported CSV back: the payload column is the item', () => {
    const exported =
      'seq,status,attempts,error,payload,result,errorCategory,retryable\r\n' +
      '3,failed,1,"doi must match","{""title"":""Fixed"",""doi"":""10.1000/ok""}",,invalid_item,false\r\n';
    expect(readItems(exported, papers)).toEqual({
      ok: true,
      format: 'export',
      items: [{ title: 'Fixed', doi: '10.1000/ok' }],
    });
    expect(readItems('seq,payload\n1,not json', papers)).toEqual({
      ok: false,
      error: 'Row 2: the payload cell is not a JSON object.',
    });
  });

  it('lists the first problems of the items against the schema, and how many more', () => {
    const items = [
      { title: 'ok', year: 2020 },
      { doi: 'nope' },
      { title: 'x', year: 99.5 },
      ...Array(5).fill({}),
    ];
    const problems = itemProblems(items, papers);
    expect(problems.slice(0, 4)).toEqual([
      'Item 1: title is required',
      'Item 1: doi must match ^10\\.\\d{4,9}\\/\\S+$',
      'Item 2: year must be a whole number',
      'Item 3: title is required',
    ]);
    expect(problems[5]).toBe('… and 3 more problems.');
    expect(itemProblems([{ title: 'fine' }], papers)).toEqual([]);
  });

  it('parses CSV line ends of every kind', () => {
    expect(parseCsv('a,b\r\n1,2\n3,4')).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
    ]);
  });
});
