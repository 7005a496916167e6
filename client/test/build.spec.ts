import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const CLIENT = path.resolve(__dirname, '..');

describe('client package build', () => {
  it('builds to ESM and CommonJS with declarations, loadable by Node both ways, with no server code inside', () => {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: CLIENT, stdio: 'pipe' });
    const esm = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(path.join(CLIENT, 'dist/esm/index.js'))}); console.log(Object.keys(m).sort().join(','))`,
      ],
      { encoding: 'utf8' },
    );
    const cjs = execFileSync(
      process.execPath,
      [
        '-e',
        `console.log(Object.keys(require(${JSON.stringify(path.join(CLIENT, 'dist/cjs/index.js'))})).sort().join(','))`,
      ],
      { encoding: 'utf8' },
    );
    expect(esm.trim()).toBe('ApiError,BatchClient,BatchHttpClient');
    expect(cjs.trim()).toBe(esm.trim());
    for (const file of ['index.d.ts', 'react.d.ts', 'generated/api-types.d.ts'])
      expect(fs.existsSync(path.join(CLIENT, 'dist/types', file))).toBe(true);
    // Nothing of the server (Nest, Prisma, the backend's sources) is required at run time.
    const built = ['esm', 'cjs'].flatMap((dir) =>
      fs
        .readdirSync(path.join(CLIENT, 'dist', dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.js'))
        .map((f) => fs.readFileSync(path.join(CLIENT, 'dist', dir, f), 'utf8')),
    );
    for (const code of built) expect(code).not.toMatch(/@nestjs|@prisma|backend\/src/);
  });
});
