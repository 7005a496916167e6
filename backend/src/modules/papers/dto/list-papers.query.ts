import { z } from 'zod';
import { pageQueryFields } from '../../shared/page-query';

export const listPapersQuerySchema = z.strictObject({
  ...pageQueryFields,
  doi: z.string().max(512).optional(),
});

export type ListPapersQuery = z.infer<typeof listPapersQuerySchema>;
