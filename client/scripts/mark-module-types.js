// Each build folder says how its .js files load: ESM under dist/esm, CommonJS under dist/cjs.
const fs = require('node:fs');
const path = require('node:path');
const dist = path.resolve(__dirname, '..', 'dist');
fs.writeFileSync(path.join(dist, 'esm', 'package.json'), JSON.stringify({ type: 'module' }) + '\n');
fs.writeFileSync(path.join(dist, 'cjs', 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
