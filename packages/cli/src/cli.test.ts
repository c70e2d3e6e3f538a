import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The embedded path, as a new user runs it: `meterline start` with no DATABASE_URL starts a real
 * PostgreSQL under the data directory, seeds the demo utility, serves; killed with SIGKILL it
 * restarts on the same data with nothing lost; stopped politely it stops its PostgreSQL too.
 */

const ROOT = path.resolve(import.meta.dirname, '../../..');
const CLI = path.join(ROOT, 'packages/cli/bin/meterline.mjs');
const children: ChildProcess[] = [];
let dataDir = '';

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await stopLeftoverPostgres();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function startCli(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string }> {
  const { DATABASE_URL: _ignored, ...rest } = process.env;
  const child = spawn(process.execPath, [CLI, 'start'], {
    env: { ...rest, ...env, LOG_LEVEL: 'warn' },
    cwd: ROOT,
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 180_000);
    child.stdout?.on('data', () => {
      if (out.includes('ready at')) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
}

async function stopLeftoverPostgres() {
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  if (!dataDir || !existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  try {
    process.kill(pid, 'SIGINT');
  } catch {}
}

async function login(base: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'meterline' }),
  });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

describe('meterline start on the embedded database', () => {
  it('starts, seeds, survives kill -9, and stops its PostgreSQL on SIGTERM', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'meterline-cli-'));
    const env = {
      METERLINE_DATA_DIR: dataDir,
      PORT: String(await freePort()),
      METERLINE_PG_PORT: String(await freePort()),
      METERLINE_SEED_CUSTOMERS: '50',
      METERLINE_WEB_DIR: '/nonexistent',
    };
    const base = `http://localhost:${env.PORT}`;
    const first = await startCli(env);
    expect(first.output()).toContain('database: embedded');
    expect(first.output()).toContain('demo logins');
    expect(existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);

    let cookie = await login(base);
    const search = (await (
      await fetch(`${base}/api/customers?pageSize=100`, { headers: { cookie } })
    ).json()) as { total: number };
    expect(search.total).toBe(50);
    const docs = await fetch(`${base}/api/docs/json`);
    expect(((await docs.json()) as { paths: Record<string, unknown> }).paths['/api/customers']).toBeDefined();

    // A write, then kill -9: the acknowledged write must survive.
    const office = (
      (await (await fetch(`${base}/api/offices`, { headers: { cookie } })).json()) as { office_id: number }[]
    )[0]!;
    const created = await fetch(`${base}/api/customers`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({
        officeId: office.office_id,
        kind: 'person',
        name: '断电测试',
        idCardNo: '11010519491231002X',
        contacts: [{ phone: '13700001234' }],
        address: { community: '断电小区', building: '1', unit: '1', door: '101' },
        servicePoint: { usageTypeCode: 'W_RES' },
      }),
    });
    expect(created.status).toBe(201);
    const { accountId } = (await created.json()) as { accountId: number };
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await startCli(env);
    expect(second.output()).not.toContain('first start');
    cookie = await login(base);
    const page = await fetch(`${base}/api/customers/${accountId}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(((await page.json()) as { customer: { name: string } }).customer.name).toBe('断电测试');

    // Stopped politely, it stops in order and says nothing alarming: its PostgreSQL goes last, after
    // every connection has closed (not at once on the signal, under connections still in use).
    const stopped = new Promise<number | null>((r) => second.child.once('exit', (code) => r(code)));
    second.child.kill('SIGTERM');
    expect(await stopped).toBe(0);
    expect(second.output()).toContain('SIGTERM: shutting down');
    expect(second.output()).not.toMatch(/terminated unexpectedly|Unhandled|idle client error/);
    const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
    // PostgreSQL removes its pid file when it has shut down.
    const deadline = Date.now() + 20_000;
    while (existsSync(pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(pidFile)).toBe(false);
  });
});
