/*
 * Writes client/src/generated/api-types.ts from the server's own zod schemas: the ones its
 * validation pipes parse with and its OpenAPI document is built from, so the client's
 * types cannot drift from what the server accepts and answers. Run after changing a
 * schema: npm run client:types. A test fails when the committed file is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  batchViewSchema,
  failureGroupsSchema,
  itemViewSchema,
  throughputSchema,
} from '../../backend/src/modules/batch/batch.types';
import { operationsSchema } from '../../backend/src/modules/batch/batch.controller';
import {
  appendItemsSchema,
  createBatchSchema,
  retryBatchSchema,
} from '../../backend/src/modules/batch/dto/create-batch.schema';
import {
  exportItemsQuerySchema,
  listBatchesQuerySchema,
  listItemsQuerySchema,
  throughputQuerySchema,
} from '../../backend/src/modules/batch/dto/batch-query.dto';
import {
  auditTrailSchema,
  evaluationSchema,
  flagViewSchema,
  myFeaturesSchema,
  patchFlagSchema,
  putFlagSchema,
} from '../../backend/src/modules/feature-flags/dto/flag.dto';
import {
  rolloutPlanBodySchema,
  rolloutPlanViewSchema,
} from '../../backend/src/modules/feature-flags/rollout/rollout-plan';
import { paperViewSchema } from '../../backend/src/modules/papers/dto/paper.view';
import { listPapersQuerySchema } from '../../backend/src/modules/papers/dto/list-papers.query';
import { errorBodySchema } from '../../backend/src/modules/shared/openapi';

export const OUTPUT = path.resolve(__dirname, '..', 'src', 'generated', 'api-types.ts');

/** Answers are typed as the server writes them; bodies and queries as a caller may send them. */
const SCHEMAS: Array<[name: string, schema: z.ZodType, io: 'input' | 'output', doc: string]> = [
  ['BatchView', batchViewSchema, 'output', 'A batch as every route and socket event shows it.'],
  ['ItemView', itemViewSchema, 'output', 'One item of a batch (GET /batches/:id/items).'],
  ['CreateBatchBody', createBatchSchema, 'input', 'POST /batches.'],
  ['AppendItemsBody', appendItemsSchema, 'input', 'POST /batches/:id/items.'],
  ['RetryBody', retryBatchSchema, 'input', 'POST /batches/:id/retry.'],
  ['ListBatchesQuery', listBatchesQuerySchema, 'input', 'GET /batches query.'],
  ['ListItemsQuery', listItemsQuerySchema, 'input', 'GET /batches/:id/items query.'],
  ['ExportItemsQuery', exportItemsQuerySchema, 'input', 'GET /batches/:id/items/export query.'],
  ['ThroughputQuery', throughputQuerySchema, 'input', 'GET /batches/:id/throughput query.'],
  [
    'ThroughputView',
    throughputSchema,
    'output',
    'GET /batches/:id/throughput: items settled per time bucket.',
  ],
  ['FailureGroupsView', failureGroupsSchema, 'output', 'GET /batches/:id/failures.'],
  ['OperationsView', operationsSchema, 'output', 'GET /batches/operations.'],
  ['PaperView', paperViewSchema, 'output', 'A paper (GET /papers, GET /papers/:id).'],
  ['ListPapersQuery', listPapersQuerySchema, 'input', 'GET /papers query.'],
  ['FlagView', flagViewSchema, 'output', 'A feature flag (admin).'],
  ['PutFlagBody', putFlagSchema, 'input', 'PUT /feature-flags/:name.'],
  ['PatchFlagBody', patchFlagSchema, 'input', 'PATCH /feature-flags/:name.'],
  ['AuditTrail', auditTrailSchema, 'output', 'GET /feature-flags/:name/audit.'],
  ['Evaluation', evaluationSchema, 'output', 'GET /feature-flags/:name/evaluate.'],
  ['MyFeatures', myFeaturesSchema, 'output', 'GET /me/features.'],
  ['RolloutPlanBody', rolloutPlanBodySchema, 'input', 'PUT /feature-flags/:name/rollout-plan.'],
  ['RolloutPlanView', rolloutPlanViewSchema, 'output', 'GET /feature-flags/:name/rollout-plan.'],
  ['ErrorBody', errorBodySchema, 'output', 'Every error answer.'],
];

type Json = {
  type?: string | string[];
  properties?: Record<string, Json>;
  required?: string[];
  additionalProperties?: boolean | Json;
  items?: Json | Json[];
  prefixItems?: Json[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Json[];
  oneOf?: Json[];
  allOf?: Json[];
  description?: string;
};

const indent = (text: string, by = '  ') => text.replace(/\n/g, `\n${by}`);
const key = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));

/** TypeScript for one JSON Schema (the subset zod writes: objects, arrays, unions, enums, literals). */
function tsOf(schema: Json): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map((s) => wrap(tsOf(s))).join(' | ');
  if (schema.allOf) return schema.allOf.map((s) => wrap(tsOf(s))).join(' & ');
  if (Array.isArray(schema.type)) return schema.type.map((t) => tsOf({ ...schema, type: t })).join(' | ');
  switch (schema.type) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array': {
      if (schema.prefixItems) return `[${schema.prefixItems.map(tsOf).join(', ')}]`;
      const items = Array.isArray(schema.items) ? schema.items[0] : schema.items;
      return `Array<${items ? tsOf(items) : 'unknown'}>`;
    }
    case 'object':
      return objectOf(schema);
    case undefined:
    default:
      return 'unknown';
  }
}

function wrap(ts: string): string {
  return ts.includes(' | ') || ts.includes(' & ') ? `(${ts})` : ts;
}

function objectOf(schema: Json): string {
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([name, prop]) => {
    const doc = prop.description ? `/** ${prop.description.replace(/\*\//g, '* /')} */\n` : '';
    return `${doc}${key(name)}${required.has(name) ? '' : '?'}: ${indent(tsOf(prop))};`;
  });
  const extra = schema.additionalProperties;
  if (extra && typeof extra === 'object') fields.push(`[key: string]: ${tsOf(extra)};`);
  if (fields.length === 0) return extra === false ? 'Record<string, never>' : 'Record<string, unknown>';
  return `{\n  ${fields.map((f) => indent(f)).join('\n  ')}\n}`;
}

export function renderTypes(): string {
  const parts = SCHEMAS.map(([name, schema, io, doc]) => {
    const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
    return `/** ${doc} */\nexport type ${name} = ${tsOf(json)};\n`;
  });
  return [
    '// GENERATED by client/scripts/generate-types.ts from the server’s zod schemas: do not edit.',
    '// Regenerate with `npm run client:types`.',
    '',
    ...parts,
  ].join('\n');
}

if (require.main === module) {
  fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
  fs.writeFileSync(OUTPUT, renderTypes());
  console.log(`wrote ${path.relative(process.cwd(), OUTPUT)}`);
}
