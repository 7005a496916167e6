import { detectPublisher } from './publisher';

describe('detectPublisher', () => {
  it.each([
    [{ doi: '10.1016/j.cell.2020.01.001' }, 'elsevier'],
    [{ doi: 'https://doi.org/10.1038/nature12373' }, 'nature'],
    [{ doi: 'doi:10.1371/journal.pone.0000001' }, 'plos'],
    [{ doi: '10.5555/12345678' }, 'doi:10.5555'],
    [{ doi: '10.1007/x', url: 'https://arxiv.org/abs/1' }, 'springer'],
    [{ url: 'https://www.arxiv.org/pdf/2101.00001' }, 'arxiv'],
    [{ url: 'https://pubmed.ncbi.nlm.nih.gov/123/' }, 'pubmed'],
    [{ url: 'https://papers.example.edu/a.pdf' }, 'papers.example.edu'],
    [{ pmid: '31452104' }, 'pubmed'],
    [{ doi: 'not-a-doi', pmid: '1' }, 'pubmed'],
  ])('%j → %s', (paper, publisher) => {
    expect(detectPublisher(paper)).toBe(publisher);
  });

  it('is null without a usable identifier', () => {
    expect(detectPublisher({})).toBeNull();
    expect(detectPublisher({ doi: '  ', pmid: '', url: 'ftp://example.org/a.pdf' })).toBeNull();
    expect(detectPublisher({ url: 'not a url' })).toBeNull();
  });
});
