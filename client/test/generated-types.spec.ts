import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { OUTPUT, renderTypes } from '../scripts/generate-types';

const PRETTIER = path.resolve(__dirname, '..', '..', 'node_modules', 'prettier', 'bin', 'prettier.cjs');

describe('client types', () => {
  it('are the ones the server’s schemas give now (run `npm run client:types` after changing a schema)', () => {
    // Prettier runs in its own process (it loads its plugins with dynamic imports Jest's VM refuses).
    const fresh = execFileSync(process.execPath, [PRETTIER, '--stdin-filepath', OUTPUT], {
      input: renderTypes(),
      encoding: 'utf8',
    });
    expect(fs.readFileSync(OUTPUT, 'utf8')).toBe(fresh);
  });
});
