import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { PUBLIC_EXTENSION } from '../auth/auth.decorators';

const TAGS: [string, string][] = [
  ['batches', 'Durable batches: submit, read, control, export (flag BATCH_OPERATIONS)'],
  ['papers', 'The caller’s papers (written by papers.import)'],
  ['feature-flags', 'Flags: the caller’s evaluations, and the audited admin API'],
  ['auth', 'Development sign-in for the web page'],
  ['health', 'Liveness and dependencies'],
  ['operations', 'Prometheus metrics'],
];

/**
 * The OpenAPI document of the running service: every route with its answers and error
 * codes (from the same zod schemas the code validates with), bearer auth everywhere but
 * on public routes (`security: []`), and one server entry (this origin).
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Batch operations API')
    .setDescription(
      'Durable batch processing, feature flags and live progress (Socket.io namespace /batches, see docs/api.md). Contract v2.',
    )
    .setVersion('1.0')
    .setLicense('UNLICENSED (private)', 'https://docs.npmjs.com/cli/v11/configuring-npm/package-json#license')
    .addServer('/', 'This server')
    .addBearerAuth()
    .addSecurityRequirements('bearer');
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build());
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path) as Record<string, unknown>[]) {
      if (typeof operation !== 'object' || operation === null) continue;
      if (operation[PUBLIC_EXTENSION]) {
        operation.security = [];
        delete operation[PUBLIC_EXTENSION];
      } else {
        delete operation.security; // the global bearer requirement applies
      }
    }
  }
  return document;
}
