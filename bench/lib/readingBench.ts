/**
 * What the readings and registers benchmarks share: the seeded database of customers, books and
 * reading history, the real server in a child process, signing in, CPU time per reading, and a
 * repeatable random number generator.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '@meterline/server/platform/nodeFlags';
import { seedDemoBooks } from '@meterline/server/seed/books';
import { seedCustomers } from '@meterline/server/seed/customers';
import { DEMO_PASSWORD } from '@meterline/server/seed/org';
import { seedDemoReadings } from '@meterline/server/seed/readings';
import type { BenchDatabase } from './database.ts';
import { machineCpuMs, processCpuMs } from './machine.ts';

const round1 = (x: number) => Math.round(x * 10) / 10;

export { rng } from '@meterline/server/seed/random';

export async function seedIfNeeded(
  database: BenchDatabase,
  log: (msg: string) => void,
  customers: number,
  reseed: boolean,
  historyMonths: number,
) {
  const have = Number((await database.pool.query('select count(*) as n from customer')).rows[0].n);
  const history = Number(
    (await database.pool.query(`select count(*) as n from (select 1 from reading limit 1000) x`)).rows[0].n,
  );
  if (!reseed && have === customers && history > 0) {
    log(`reusing ${customers.toLocaleString('en')} customers with their books and reading history`);
    return null;
  }
  if (have > 0) throw new Error('the bench database holds other data: run with --reseed to start afresh');
  const t0 = Date.now();
  const c = await seedCustomers(database.pool, { customers, log });
  const t1 = Date.now();
  const b = await seedDemoBooks(database.pool, { log });
  const t2 = Date.now();
  const r = await seedDemoReadings(database.pool, { log, historyMonths });
  return {
    customers_seconds: round1((t1 - t0) / 1000),
    books_seconds: round1((t2 - t1) / 1000),
    books: b.books,
    history_seconds: round1(r.seconds),
    history_readings: r.readings,
    history_readings_per_s: Math.round(r.readings / r.seconds),
    customers: c.customers,
  };
}

/**
 * CPU time the server process and its PostgreSQL backends spend on a phase, and the share of the
 * machine other processes took meanwhile: on a shared machine, readings per CPU-second say more than
 * readings per second.
 */
export async function cpuMeter(database: BenchDatabase, serverPid: number) {
  const backends = async () =>
    (
      await database.pool.query<{ pid: number }>(
        `select pid from pg_stat_activity
         where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()`,
      )
    ).rows.map((r) => r.pid);
  const serverAtStart = processCpuMs(serverPid);
  const machineAtStart = machineCpuMs();
  const atStart = new Map((await backends()).map((pid) => [pid, processCpuMs(pid)]));
  const self = process.cpuUsage();
  return async (readings: number) => {
    const server = (processCpuMs(serverPid) ?? 0) - (serverAtStart ?? 0);
    let postgres = 0;
    for (const pid of new Set([...atStart.keys(), ...(await backends())])) {
      const now = processCpuMs(pid);
      if (now !== null) postgres += now - (atStart.get(pid) ?? 0);
    }
    const bench = process.cpuUsage(self);
    const benchMs = (bench.user + bench.system) / 1000;
    const m = machineCpuMs();
    const others =
      m && machineAtStart
        ? Math.max(
            0,
            Math.round(
              ((m.busy - machineAtStart.busy - server - postgres - benchMs) /
                (m.total - machineAtStart.total)) *
                100,
            ),
          )
        : null;
    const cpuSeconds = (server + postgres) / 1000;
    return {
      server_cpu_s: round1(server / 1000),
      postgres_cpu_s: round1(postgres / 1000),
      server_cpu_us_per_reading: Math.round((server * 1000) / Math.max(1, readings)),
      postgres_cpu_us_per_reading: Math.round((postgres * 1000) / Math.max(1, readings)),
      reads_per_cpu_s: Math.round(readings / Math.max(0.001, cpuSeconds)),
      others_cpu_pct: others,
    };
  };
}

export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
}

export async function startServerProcess(databaseUrl: string, name: string): Promise<ServerProcess> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const logFile = path.join(os.tmpdir(), `meterline-bench-${name}-server.log`);
  const child = fork(path.join(here, '..', 'search', 'server.ts'), [], {
    // The server's own V8 flags (as `npm start` runs it).
    execArgv: [...SERVER_NODE_FLAGS, '--import', 'tsx'],
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.stdout?.pipe(createWriteStream(logFile));
  const ready = await new Promise<{ port: number }>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m));
    child.once('exit', (code) =>
      reject(new Error(`the server exited (${code}) before it was ready; see ${logFile}`)),
    );
  });
  return { child, baseUrl: `http://127.0.0.1:${ready.port}` };
}

export async function login(baseUrl: string, username: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: DEMO_PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ml_session='));
  if (!cookie) throw new Error(`login ${username}: no session cookie`);
  return cookie.split(';')[0]!;
}

/** Milliseconds a GET takes, its whole answer read (a view as the analyst's browser asks for it). */
export async function timedGet(base: string, cookie: string, url: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${base}${url}`, { headers: { cookie } });
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${(await res.text()).slice(0, 200)}`);
  await res.arrayBuffer();
  return Math.round(performance.now() - t);
}
