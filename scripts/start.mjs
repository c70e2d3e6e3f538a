// `npm start`: builds the back office when its sources are newer than the build, then runs
// `meterline start` in this process (embedded PostgreSQL unless DATABASE_URL is set).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'packages/web');
const built = path.join(web, 'dist/index.html');

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(
    `meterline needs Node.js 22+ (found ${process.version}). Run "npm install" first: it installs Node 22 for the project.`,
  );
  process.exit(1);
}

const sources = Math.max(newest(path.join(web, 'src')), newest(path.join(root, 'packages/domain/src')));
if (!existsSync(built) || statSync(built).mtimeMs < sources) {
  console.log('[meterline] building the back office…');
  const result = spawnSync('npm', ['run', 'build', '--workspace', '@meterline/web'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

process.argv = [process.argv[0], 'meterline', 'start', ...process.argv.slice(2)];
await import('../packages/cli/bin/meterline.mjs');
