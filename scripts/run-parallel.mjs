// Runs npm scripts side by side (lint and typecheck: two CPU-bound passes on a 2-core
// machine), prints each one's output when it ends, and fails if any of them failed.
import { spawn } from 'node:child_process';

const names = process.argv.slice(2);
const runs = names.map(
  (name) =>
    new Promise((resolve) => {
      const child = spawn('npm', ['run', '--silent', name], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('close', (code) => {
        process.stdout.write(`\n> ${name}: ${code === 0 ? 'ok' : `failed (${code})`}\n${output}`);
        resolve(code === 0);
      });
    }),
);
const ok = (await Promise.all(runs)).every(Boolean);
process.exit(ok ? 0 : 1);
