#!/usr/bin/env node
// `npm run bench -- <name> [--size N] [...]` runs bench/<name>/index.ts with the project's tsx on
// the project's Node 22 (node_modules/.bin goes first on PATH, whoever started this script), passing
// every argument after the name through. The benchmark prints what it measures as it goes and its
// figures as one JSON object on its last line.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = path.join(root, 'bench');
const available = existsSync(benchDir)
  ? readdirSync(benchDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(path.join(benchDir, d.name, 'index.ts')))
      .map((d) => d.name)
      .sort()
  : [];

const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  console.log(`Usage: npm run bench -- <name> [--size N] [options]\n\nBenchmarks: ${available.join(', ')}`);
  console.log('See bench/README.md for each benchmark and its options.');
  process.exit(name ? 0 : 2);
}
if (!available.includes(name)) {
  console.error(`unknown benchmark "${name}"; available: ${available.join(', ')}`);
  process.exit(2);
}

const bin = path.join(root, 'node_modules', '.bin');
const tsx = path.join(bin, 'tsx');
if (!existsSync(tsx)) {
  console.error('node_modules/.bin/tsx is missing: run npm install first');
  process.exit(2);
}
const child = spawn(tsx, [path.join(benchDir, name, 'index.ts'), ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
});
// Ctrl-C reaches the whole process group (the benchmark too): wait for it to stop. SIGTERM is passed on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
