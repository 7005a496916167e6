import { z } from 'zod';

/** A paper as the API answers it; PaperView is its type. */
export const paperViewSchema = z.object({
  id: z.string(),
  title: z.string(),
  doi: z.string().nullable(),
  authors: z.array(z.string()).nullable(),
  year: z.number().int().nullable(),
  abstract: z.string().nullable(),
  fullTextStatus: z.enum(['none', 'available', 'not_available', 'failed']),
  fullTextWords: z.number().int().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export type PaperView = Omit<z.infer<typeof paperViewSchema>, 'authors' | 'fullTextStatus'> & {
  authors: unknown;
  fullTextStatus: string;
};
