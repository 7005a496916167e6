import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { givenApp, TestApp } from '../support/test-app';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('The OpenAPI document', () => {
  let sut: TestApp;
  let document: Record<string, any>;

  beforeAll(async () => {
    sut = await givenApp();
    document = (await sut.http().get('/docs-json').expect(200)).body;
  });
  afterAll(() => sut.close());

  it('passes Redocly’s recommended rules with zero errors and zero warnings', async () => {
    const file = path.join(sut.db.dir, 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(document));
    const report = await new Promise<string>((resolve, reject) =>
      execFile(
        path.join(ROOT, 'node_modules', '.bin', 'redocly'),
        ['lint', file, '--extends', 'recommended', '--format', 'json'],
        { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout) => (stdout ? resolve(stdout) : reject(error ?? new Error('no output'))),
      ),
    );
    const parsed = JSON.parse(report.slice(report.indexOf('{'))) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string }[];
    };
    expect(parsed.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(parsed.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('documents the real answers: 202 and 200 on create, 204 on delete, the error schema, public routes without security', () => {
    const create = document.paths['/batches'].post.responses;
    expect(Object.keys(create)).toEqual(
      expect.arrayContaining(['200', '202', '400', '409', '413', '422', '429']),
    );
    expect(create['201']).toBeUndefined();
    expect(create['202'].content['application/json'].schema.properties).toHaveProperty('succeededCount');
    expect(create['413'].description).toContain('BATCH_TOO_LARGE');
    expect(create['413'].content['application/json'].schema.required).toEqual(
      expect.arrayContaining(['statusCode', 'code', 'message', 'correlationId']),
    );
    expect(Object.keys(document.paths['/feature-flags/{name}'].delete.responses)).toContain('204');
    for (const route of ['/health', '/auth/dev-login', '/app-config', '/metrics']) {
      const operation = Object.values(document.paths[route] as Record<string, any>)[0];
      expect(operation.security).toEqual([]);
    }
    expect(document.security).toEqual([{ bearer: [] }]);
    expect(document.servers).toHaveLength(1);
  });
});
