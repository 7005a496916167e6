import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { ErrorCode, statusOf } from './errors/error-code';
import { openApiOf } from './zod-params';

/** The body of every non-2xx answer. */
export const errorBodySchema = z.object({
  statusCode: z.number().int(),
  code: z.enum(ErrorCode),
  message: z.string(),
  correlationId: z.string(),
  details: z.unknown().optional().describe('What was wrong: errors, items, violatedPolicies, operations …'),
});

/**
 * The error answers a route can give, grouped by status, each with the error schema and
 * its codes in the description. Every authenticated route can also answer 401, every
 * route 429 (the global throttler) and 503 (the database).
 */
export function ApiErrors(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  const all = [
    ...new Set([...codes, ErrorCode.RateLimited, ErrorCode.DatabaseUnavailable, ErrorCode.DatabaseBusy]),
  ];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of all) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  return applyDecorators(
    ...[...byStatus].map(([status, list]) =>
      ApiResponse({
        status,
        description: list.join(', '),
        schema: openApiOf(errorBodySchema, 'output'),
      }),
    ),
  );
}

/** A 2xx answer documented from a zod schema. */
export function ApiOk(status: number, schema: z.ZodType, description: string): MethodDecorator {
  return ApiResponse({ status, description, schema: openApiOf(schema, 'output') });
}

/** `{ data, nextCursor }` pages. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() });
