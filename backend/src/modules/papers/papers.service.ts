import { Injectable } from '@nestjs/common';
import { AppException } from '../shared/errors/app-exception';
import type { Paper } from '@prisma/client';
import { decodeCursor, isTimeCursor, Page, toPage } from '../shared/cursor';
import { ListPapersQuery } from './dto/list-papers.query';
import type { PaperView } from './dto/paper.view';
import { PapersRepository } from './papers.repository';

const toView = (p: Omit<Paper, 'fullText'>): PaperView => ({
  id: p.id,
  title: p.title,
  doi: p.doi,
  authors: p.authors,
  year: p.year,
  abstract: p.abstract,
  fullTextStatus: p.fullTextStatus,
  fullTextWords: p.fullTextWords,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});

@Injectable()
export class PapersService {
  constructor(private readonly papers: PapersRepository) {}

  /** The caller's papers only, newest first. */
  async list(userId: string, query: ListPapersQuery): Promise<Page<PaperView> & { total: number }> {
    const limit = query.limit ?? 20;
    const after = query.cursor ? decodeCursor(query.cursor, isTimeCursor) : undefined;
    const { rows, total } = await this.papers.list({
      userId,
      doi: query.doi,
      limit,
      after: after && { createdAt: new Date(after.t), id: after.id },
    });
    return { ...toPage(rows, limit, toView, (p) => ({ t: p.createdAt.toISOString(), id: p.id })), total };
  }

  /** One of the caller's papers with its full text (404 for a missing or someone else's paper). */
  async get(userId: string, id: string): Promise<PaperView & { fullText: string | null }> {
    const paper = id.length <= 64 ? await this.papers.findForUser(userId, id) : null;
    if (!paper) throw AppException.notFound('Paper');
    return { ...toView(paper), fullText: paper.fullText };
  }
}
