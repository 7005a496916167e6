import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
/** The models a host copies (docs/integrating.md). */
const MODULE_MODELS = [
  'BatchOperation',
  'BatchChunk',
  'BatchJobItem',
  'IdempotencyRecord',
  'FeatureFlag',
  'FeatureFlagAudit',
  'FeatureFlagRolloutPlan',
  'FeatureFlagRolloutSample',
  'OperationSlot',
  'OperationWindow',
  'OperationHold',
  'RateLimit',
];

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/from '([^']+)'/g)].map((m) => path.resolve(path.dirname(file), m[1]));
}

function modelBlocks(schema: string): Map<string, string> {
  const text = fs.readFileSync(path.join(ROOT, schema), 'utf8');
  return new Map([...text.matchAll(/model (\w+) \{[\s\S]*?\n\}/g)].map((m) => [m[1], m[0]]));
}

describe('Module boundaries', () => {
  it('keeps backend/src/common out of the batch, feature-flag and shared modules and the PDF queue drop-in', () => {
    const common = path.join(ROOT, 'backend', 'src', 'common');
    const offenders = ['batch', 'feature-flags', 'shared', 'papers/pdf-queue']
      .flatMap((m) => tsFiles(path.join(ROOT, 'backend', 'src', 'modules', m)))
      .filter((file) => importsOf(file).some((target) => target.startsWith(common)));
    expect(offenders).toEqual([]);
  });

  it('keeps every file of the copied folders, specs included, inside those folders (relative imports)', () => {
    const modules = path.join(ROOT, 'backend', 'src', 'modules');
    const copied = ['batch', 'feature-flags', 'shared', 'papers/pdf-queue'].map((m) => path.join(modules, m));
    const offenders = copied
      .flatMap((dir) => tsFiles(dir))
      .flatMap((file) =>
        [...fs.readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)]
          .map((m) => path.resolve(path.dirname(file), m[1]))
          .filter((target) => !copied.some((dir) => target.startsWith(dir)))
          .map((target) => `${path.relative(ROOT, file)} → ${path.relative(ROOT, target)}`),
      );
    expect(offenders).toEqual([]);
  });

  it('lets the test host reach project code only through the two public entries', () => {
    const src = path.join(ROOT, 'backend', 'src');
    const allowed = ['batch', 'feature-flags'].map((m) => path.join(src, 'modules', m));
    const offenders = tsFiles(__dirname).flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith(src) && !allowed.includes(target))
        .map((target) => `${path.basename(file)} → ${path.relative(ROOT, target)}`),
    );
    expect(offenders).toEqual([]);
  });

  it('has the host schema carry the modules’ models exactly as backend/prisma/schema.prisma defines them', () => {
    const ours = modelBlocks('backend/prisma/schema.prisma');
    const host = modelBlocks('backend/test/host/prisma/schema.prisma');
    for (const model of MODULE_MODELS) expect(host.get(model)).toBe(ours.get(model));
  });
});
