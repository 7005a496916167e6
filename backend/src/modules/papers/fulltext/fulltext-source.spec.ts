import { bestPdfUrl, OpenAccessThenPublisher } from './fulltext-source';

describe('bestPdfUrl', () => {
  it.each([
    [
      { best_oa_location: { url_for_pdf: 'https://repo.example.org/a.pdf' } },
      'https://repo.example.org/a.pdf',
    ],
    [{ best_oa_location: { url_for_pdf: 'http://repo.example.org/b.pdf' } }, 'http://repo.example.org/b.pdf'],
    [{ best_oa_location: { url_for_pdf: 'ftp://repo.example.org/c.pdf' } }, null],
    [{ best_oa_location: { url_for_pdf: 'javascript:alert(1)' } }, null],
    [{ best_oa_location: { url_for_pdf: 'not a url' } }, null],
    [{ best_oa_location: { url_for_pdf: 42 } }, null],
    [{ best_oa_location: { url_for_pdf: `https://x.org/${'a'.repeat(3000)}` } }, null],
    [{ best_oa_location: null }, null],
    [{}, null],
    [null, null],
    ['text', null],
  ])('%j → %s', (body, expected) => {
    expect(bestPdfUrl(body)?.href ?? null).toBe(expected);
  });
});

describe('OpenAccessThenPublisher', () => {
  const source = new OpenAccessThenPublisher({
    publisherBaseUrl: 'https://doi.org/',
    resolverUrl: 'https://api.unpaywall.org/v2/',
    contactEmail: 'ops+batch@example.org',
  });

  it('asks the resolver for the DOI as path segments with the contact, then lists the open copy before the publisher', async () => {
    const asked: string[] = [];
    const candidates = await source.candidates({ id: 'p1', doi: '10.1000/a b' }, async (hop) => {
      asked.push(hop.rawPath ?? hop.url.pathname);
      return { status: 200, body: { best_oa_location: { url_for_pdf: 'https://repo.example.org/a.pdf' } } };
    });
    expect(asked).toEqual(['/v2/10.1000/a%20b?email=ops%2Bbatch%40example.org']);
    expect(candidates.map((c) => [c.via, c.hop.url.href])).toEqual([
      ['open_access', 'https://repo.example.org/a.pdf'],
      ['publisher', 'https://doi.org/10.1000/a%20b'],
    ]);
  });

  it('falls back to the publisher alone when the resolver has no copy, fails, or is not configured', async () => {
    const publisherOnly = [['publisher', 'https://doi.org/10.1000/x']];
    const hrefs = (c: { via: string; hop: { url: URL } }[]) => c.map((x) => [x.via, x.hop.url.href]);
    expect(
      hrefs(
        await source.candidates({ id: 'p', doi: '10.1000/x' }, async () => ({ status: 404, body: null })),
      ),
    ).toEqual(publisherOnly);
    expect(
      hrefs(await source.candidates({ id: 'p', doi: '10.1000/x' }, () => Promise.reject(new Error('down')))),
    ).toEqual(publisherOnly);
    // A resolver that cannot be asked now (held, or no free slot): the item waits instead.
    const busy = Object.assign(new Error('busy'), { deferred: true });
    await expect(source.candidates({ id: 'p', doi: '10.1000/x' }, () => Promise.reject(busy))).rejects.toBe(
      busy,
    );
    const plain = new OpenAccessThenPublisher({ publisherBaseUrl: 'https://doi.org/' });
    const lookup = jest.fn();
    expect(hrefs(await plain.candidates({ id: 'p', doi: '10.1000/x' }, lookup))).toEqual(publisherOnly);
    expect(lookup).not.toHaveBeenCalled();
  });
});
