// `npm test`: every check and every test, in the order a failure is cheapest to find.
// - lint and format (Biome), type check (tsc, strict)
// - domain unit tests
// - server and CLI tests against DATABASE_URL when set (CI: the PostgreSQL on 127.0.0.1:5432),
//   and again on the embedded PostgreSQL, so both paths stay tested
// - the back office build, then browser tests in Debian's Chromium (installed here if missing)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules/.bin', name);
const results = [];

function step(name, command, args, env = {}) {
  const started = Date.now();
  console.log(`\n━━ ${name}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  results.push({ name, ok: result.status === 0, seconds });
  if (result.status !== 0) {
    summary();
    console.error(`\n✗ ${name} failed`);
    process.exit(result.status ?? 1);
  }
}

function summary() {
  console.log('\n━━ summary');
  for (const r of results) console.log(`${r.ok ? '✓' : '✗'} ${r.name} (${r.seconds} s)`);
}

function ensureChromium() {
  if (existsSync('/usr/bin/chromium')) return;
  if (process.getuid?.() !== 0) {
    console.error(
      'Browser tests need Debian\'s chromium: run "sudo apt-get install -y chromium" and try again.',
    );
    process.exit(1);
  }
  console.log("\n━━ installing Debian's chromium for the browser tests");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
    stdio: 'inherit',
    env,
  });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
      stdio: 'inherit',
      env,
    });
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(
    `Tests need Node.js 22+ (found ${process.version}); run them with "npm test" after "npm install".`,
  );
  process.exit(1);
}

ensureChromium();
step('lint and format (biome)', bin('biome'), ['check', '.']);
step('type check (tsc)', 'npm', ['run', 'typecheck']);
step('domain unit tests', bin('vitest'), ['run', '--project', 'domain']);
const withoutUrl = { ...process.env };
delete withoutUrl.DATABASE_URL;
if (process.env.DATABASE_URL) {
  step(`server tests on ${new URL(process.env.DATABASE_URL).host}`, bin('vitest'), [
    'run',
    '--project',
    'server',
  ]);
}
{
  const started = Date.now();
  console.log('\n━━ server tests on the embedded PostgreSQL');
  const r = spawnSync(bin('vitest'), ['run', '--project', 'server'], {
    cwd: root,
    stdio: 'inherit',
    env: withoutUrl,
  });
  results.push({
    name: 'server tests on the embedded PostgreSQL',
    ok: r.status === 0,
    seconds: ((Date.now() - started) / 1000).toFixed(1),
  });
  if (r.status !== 0) {
    summary();
    process.exit(r.status ?? 1);
  }
}
step('back office build', 'npm', ['run', 'build']);
step('browser tests (Chromium)', bin('vitest'), ['run', '--project', 'e2e']);
summary();
console.log('\n✓ all checks passed');
