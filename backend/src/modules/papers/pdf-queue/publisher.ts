/** The identifiers a paper may carry (the host's papers have all three; ours have the DOI). */
export interface PaperIdentifiers {
  doi?: string | null;
  pmid?: string | null;
  url?: string | null;
}

/**
 * DOI registrant prefixes of the publishers most papers come from. A prefix names the
 * registrant, not the web host, so it stays right when a publisher moves its PDFs; an
 * unknown prefix reads as `doi:<prefix>`, which still groups one registrant's papers.
 */
const DOI_PREFIXES: Readonly<Record<string, string>> = {
  '10.1016': 'elsevier',
  '10.1007': 'springer',
  '10.1186': 'springer',
  '10.1038': 'nature',
  '10.1002': 'wiley',
  '10.1111': 'wiley',
  '10.1080': 'taylor-francis',
  '10.1177': 'sage',
  '10.1093': 'oxford',
  '10.1017': 'cambridge',
  '10.1109': 'ieee',
  '10.1145': 'acm',
  '10.1371': 'plos',
  '10.3390': 'mdpi',
  '10.3389': 'frontiers',
  '10.1101': 'biorxiv',
  '10.48550': 'arxiv',
  '10.1126': 'science',
  '10.1073': 'pnas',
  '10.1001': 'jama',
  '10.1136': 'bmj',
  '10.1056': 'nejm',
};

/** Web hosts of papers given by URL only, by registrable name. */
const URL_HOSTS: Readonly<Record<string, string>> = {
  'arxiv.org': 'arxiv',
  'biorxiv.org': 'biorxiv',
  'medrxiv.org': 'medrxiv',
  'sciencedirect.com': 'elsevier',
  'link.springer.com': 'springer',
  'nature.com': 'nature',
  'onlinelibrary.wiley.com': 'wiley',
  'tandfonline.com': 'taylor-francis',
  'journals.sagepub.com': 'sage',
  'academic.oup.com': 'oxford',
  'ieeexplore.ieee.org': 'ieee',
  'dl.acm.org': 'acm',
  'journals.plos.org': 'plos',
  'mdpi.com': 'mdpi',
  'frontiersin.org': 'frontiers',
  'ncbi.nlm.nih.gov': 'pubmed',
  'pubmed.ncbi.nlm.nih.gov': 'pubmed',
  'europepmc.org': 'europepmc',
};

/**
 * The publisher a paper's PDF will most likely come from, from its identifiers: the DOI's
 * registrant first, then the URL's host, then PubMed for a paper known by its PMID only;
 * null when it has none of them (such a paper cannot be fetched).
 */
export function detectPublisher(paper: PaperIdentifiers): string | null {
  const doi = paper.doi?.trim().replace(/^(https?:\/\/(dx\.)?doi\.org\/|doi:)/i, '');
  if (doi) {
    const prefix = /^(10\.\d{4,9})\//.exec(doi)?.[1];
    if (prefix) return DOI_PREFIXES[prefix] ?? `doi:${prefix}`;
  }
  const host = hostOf(paper.url);
  if (host) {
    for (let name = host; name.includes('.'); name = name.slice(name.indexOf('.') + 1)) {
      const known = URL_HOSTS[name];
      if (known) return known;
    }
    return host;
  }
  if (paper.pmid?.trim()) return 'pubmed';
  return doi ? 'doi' : null;
}

function hostOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
    return parsed.hostname.toLowerCase().replace(/^www\./, '');
  } catch {
    return null;
  }
}
