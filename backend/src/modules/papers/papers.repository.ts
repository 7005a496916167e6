import { uuidV7 } from '../../common/ids/uuid-v7';
import { Injectable } from '@nestjs/common';
import { Paper as PaperRow, Prisma } from '@prisma/client';
import { newestFirstAfter } from '../shared/cursor';
import { PrismaService } from '../../common/prisma/prisma.service';
import type { SqlExecutor } from '../shared/database/sql-executor';

export interface PaperInput {
  title: string;
  doi?: string;
  authors?: string[];
  year?: number;
  abstract?: string;
}

export type { PaperRow };

export interface UpsertedPaper {
  paperId: string;
  created: boolean;
}

/** All SQL of papers. */
@Injectable()
export class PapersRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Creates the user's papers, or updates the user's paper with the same DOI, with one
   * set-based upsert (plus one read to tell created from updated). Returns one entry
   * per input, in order; repeated DOIs in one call resolve to the same paper.
   */
  async upsertForUser(db: SqlExecutor, userId: string, papers: PaperInput[]): Promise<UpsertedPaper[]> {
    if (papers.length === 0) return [];
    const dois = [...new Set(papers.map((p) => p.doi).filter((d): d is string => d !== undefined))];
    const existing = new Set(
      dois.length === 0
        ? []
        : (
            await db.$queryRawUnsafe<{ doi: string }[]>(
              `SELECT "doi" FROM "Paper" WHERE "userId" = ? AND "doi" IN (${this.prisma.dialect.jsonStrings()})`,
              userId,
              JSON.stringify(dois),
            )
          ).map((r) => r.doi),
    );
    const rows = papers.map((p) => ({ ...p, id: uuidV7(), authors: p.authors ?? [] }));
    const now = this.prisma.dialect.timestamp(Date.now());
    const d = this.prisma.dialect;
    const returned = await db.$queryRawUnsafe<{ id: string; doi: string | null }[]>(
      `INSERT INTO "Paper" ("id", "userId", "title", "doi", "authors", "year", "abstract", "createdAt", "updatedAt")
       SELECT p."id", ?, p."title", p."doi", p."authors", p."year", p."abstract", ${d.ts}, ${d.ts}
       FROM ${d.jsonRecords('p', [
         ['id', 'text'],
         ['title', 'text'],
         ['doi', 'text'],
         ['authors', 'jsonb'],
         ['year', 'int'],
         ['abstract', 'text'],
       ])} WHERE true
       ON CONFLICT ("userId", "doi") DO UPDATE SET
         "title" = excluded."title", "authors" = excluded."authors", "year" = excluded."year",
         "abstract" = excluded."abstract", "updatedAt" = excluded."updatedAt"
       RETURNING "id", "doi"`,
      userId,
      now,
      now,
      // In DOI order: concurrent chunks then lock the papers they share in the same order
      // (two chunks upserting the same DOIs in opposite orders would deadlock on PostgreSQL).
      JSON.stringify([...rows].sort((a, b) => ((a.doi ?? '') < (b.doi ?? '') ? -1 : 1))),
    );
    const idByDoi = new Map(returned.filter((r) => r.doi !== null).map((r) => [r.doi as string, r.id]));
    const seen = new Set<string>();
    return rows.map((row) => {
      if (row.doi === undefined) return { paperId: row.id, created: true };
      const created = !existing.has(row.doi) && !seen.has(row.doi);
      seen.add(row.doi);
      return { paperId: idByDoi.get(row.doi) as string, created };
    });
  }

  async list(filter: {
    userId: string;
    doi?: string;
    limit: number;
    after?: { createdAt: Date; id: string };
  }) {
    const where: Prisma.PaperWhereInput = { userId: filter.userId, doi: filter.doi };
    const keyset = newestFirstAfter(filter.after);
    const [rows, total] = await Promise.all([
      this.prisma.paper.findMany({
        where: { ...where, ...keyset.where },
        orderBy: keyset.orderBy,
        take: filter.limit + 1,
        // Lists never carry the (possibly large) full text.
        omit: { fullText: true },
      }),
      this.prisma.paper.count({ where }),
    ]);
    return { rows, total };
  }

  /** The outcome of a full-text download on the paper. */
  async storeFullText(
    paperId: string,
    outcome: { status: 'available' | 'not_available' | 'failed'; text: string | null; words: number | null },
  ): Promise<void> {
    await this.prisma.paper.update({
      where: { id: paperId },
      data: { fullTextStatus: outcome.status, fullText: outcome.text, fullTextWords: outcome.words },
    });
  }

  /** The user's papers among `ids`, by id (missing and other users' papers are absent). */
  async findManyForUser(userId: string, ids: string[]): Promise<Map<string, PaperRow>> {
    const rows = await this.prisma.paper.findMany({ where: { userId, id: { in: [...new Set(ids)] } } });
    return new Map(rows.map((row) => [row.id, row]));
  }

  /** Who owns each of these papers and their identifiers (the PDF queue's lookup); missing ones are absent. */
  findIdentifiers(ids: string[]): Promise<Array<{ id: string; userId: string; doi: string | null }>> {
    return this.prisma.paper.findMany({
      where: { id: { in: [...new Set(ids)] } },
      select: { id: true, userId: true, doi: true },
    });
  }

  /** One of the user's papers, with its full text; null for a missing or someone else's paper. */
  findForUser(userId: string, id: string) {
    return this.prisma.paper.findFirst({ where: { id, userId } });
  }
}
