import { applyDecorators, Body, PipeTransform, Query } from '@nestjs/common';
import { ApiBody, ApiQuery } from '@nestjs/swagger';
import { z } from 'zod';
import { AppException } from './errors/app-exception';

/** Formats schema issues as `field message` lines, e.g. `doi must match ^10\.\d{4,9}/\S+$`. */
export function formatIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const field = issue.path.join('.');
    return field ? `${field} ${issue.message}` : issue.message;
  });
}

/** Parses `value` with `schema` or throws 400 VALIDATION_FAILED listing every problem. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw AppException.validation(`Invalid ${what}`, { errors: formatIssues(parsed.error.issues) });
  return parsed.data;
}

class SchemaPipe<T> implements PipeTransform<unknown, T> {
  constructor(
    private readonly schema: z.ZodType<T>,
    private readonly what: string,
  ) {}

  transform(value: unknown): T {
    return parseOrThrow(this.schema, value ?? {}, this.what);
  }
}

/*
 * The modules validate their own input with zod, in parameter pipes over plain types:
 * a host's global ValidationPipe (class-validator) skips such parameters, so the
 * modules behave the same whatever pipe the host configured. The OpenAPI description
 * comes from the same schema (`z.toJSONSchema`).
 */

/** `@Query()` parsed by `schema` (strict: unknown fields are a 400), documented from it. */
export const ZodQuery = <T>(schema: z.ZodType<T>) => Query(new SchemaPipe(schema, 'query'));

/** `@Body()` parsed by `schema`, documented from it. */
export const ZodBody = <T>(schema: z.ZodType<T>) => Body(new SchemaPipe(schema, 'request body'));

type JsonSchema = { properties?: Record<string, object>; required?: string[] };

/** An OpenAPI 3.0 schema object from a zod schema (`io`: what a client sends, or what it gets). */
export function openApiOf(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as JsonSchema & {
    $schema?: string;
  };
  delete json.$schema;
  return json;
}

/** OpenAPI query parameters from a z.object schema. */
export function ApiQueryFrom(schema: z.ZodObject): MethodDecorator {
  const json = openApiOf(schema);
  return applyDecorators(
    ...Object.entries(json.properties ?? {}).map(([name, property]) =>
      ApiQuery({ name, required: (json.required ?? []).includes(name), schema: property }),
    ),
  );
}

/** OpenAPI request body from a zod schema. */
export function ApiBodyFrom(schema: z.ZodType, required = true): MethodDecorator {
  return ApiBody({ schema: openApiOf(schema) as object, required });
}
