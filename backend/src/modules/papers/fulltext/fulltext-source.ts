import type { Hop } from './outbound-client';
import { publisherHop } from './publisher-url';

/** One place a paper's PDF may be downloaded from. */
export interface FullTextCandidate {
  hop: Hop;
  /** Where the location came from (logged with failures): `open_access`, `publisher`, or a host's own name. */
  via: string;
}

/**
 * A JSON GET through the outbound policy (every hop checked, held hosts waited out): status
 * and parsed body. It rejects with an error whose `deferred` is true when the host cannot be
 * asked now (held, or no free slot): the item then waits instead of skipping the lookup.
 */
export type JsonLookup = (hop: Hop) => Promise<{ status: number; body: unknown }>;

/**
 * Where a paper's PDF comes from: candidate locations, best first. The operation keeps
 * what is its own (durability, limits, holds, retries, progress, cancel, extraction) and
 * downloads the candidates in order until one is a PDF. A host plugs in its own source by
 * providing FULLTEXT_SOURCE.
 */
export interface FullTextSource {
  candidates(paper: { id: string; doi: string }, lookup: JsonLookup): Promise<FullTextCandidate[]>;
}

export const FULLTEXT_SOURCE = Symbol('FULLTEXT_SOURCE');

/**
 * The default chain: an open-access lookup by DOI (an Unpaywall-style JSON API, `GET
 * <resolver>/<doi>?email=<contact>`, taking the best open-access location's PDF URL),
 * then the publisher (`FULLTEXT_BASE_URL` + the DOI as path segments). A resolver that
 * knows no open copy (404, no location), answers garbage or is down leaves the publisher.
 */
export class OpenAccessThenPublisher implements FullTextSource {
  constructor(
    private readonly settings: { publisherBaseUrl: string; resolverUrl?: string; contactEmail?: string },
  ) {}

  async candidates(paper: { id: string; doi: string }, lookup: JsonLookup): Promise<FullTextCandidate[]> {
    const publisher = { hop: publisherHop(this.settings.publisherBaseUrl, paper.doi), via: 'publisher' };
    const openAccess = this.settings.resolverUrl ? await this.openAccess(paper.doi, lookup) : null;
    return openAccess ? [openAccess, publisher] : [publisher];
  }

  private async openAccess(doi: string, lookup: JsonLookup): Promise<FullTextCandidate | null> {
    const hop = publisherHop(this.settings.resolverUrl as string, doi);
    const email = encodeURIComponent(this.settings.contactEmail ?? '');
    const query: Hop = {
      url: new URL(`${hop.url.href}?email=${email}`),
      rawPath: `${hop.rawPath}?email=${email}`,
    };
    // A resolver that is down or answers garbage leaves the publisher; one that is busy or
    // held makes the item wait (skipping it would send a paper with an open copy to a paywall).
    const answer = await lookup(query).catch((error: unknown) => {
      if ((error as { deferred?: unknown } | null)?.deferred === true) throw error;
      return null;
    });
    if (!answer || answer.status !== 200) return null;
    const pdfUrl = bestPdfUrl(answer.body);
    return pdfUrl ? { hop: { url: pdfUrl }, via: 'open_access' } : null;
  }
}

/** `best_oa_location.url_for_pdf` of an Unpaywall-style answer, when it is an http(s) URL. */
export function bestPdfUrl(body: unknown): URL | null {
  const location = (body as { best_oa_location?: { url_for_pdf?: unknown } } | null)?.best_oa_location;
  const raw = location?.url_for_pdf;
  if (typeof raw !== 'string' || raw.length > 2048) return null;
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}
