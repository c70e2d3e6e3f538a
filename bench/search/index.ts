/**
 * bench/search — customer search latency over a seeded utility, as clerks at the counter see it.
 *
 *   npm run bench -- search [--size 1000000] [--clients 50] [--seconds 30] [--requests N]
 *                           [--warmup 5] [--users clerk,admin] [--modes saturated,paced]
 *                           [--think-ms 1000] [--target 50] [--kinds name2,...] [--reseed]
 *
 * Uses the database meterline_bench_search (reused when it already holds --size customers,
 * otherwise recreated and seeded), starts the real server (startServer from server.ts) in a child
 * process, signs in each user in turn — 'clerk' (one office) and 'admin' (every office) — and
 * drives GET /api/customers with --clients concurrent keep-alive clients, drawing queries from a
 * mix of names, surnames, communities, address fragments, phone fragments and numbers, customer
 * codes, meter numbers and ID numbers sampled from the data in the user's offices. Each user is
 * measured in two ways:
 *   saturated  every client sends its next search as soon as the last one answered: the most
 *              the machine can serve, and the latency of a queue that never empties;
 *   paced      every client pauses --think-ms on average between searches (clerks typing): the
 *              latency a clerk sees at that load.
 * Reports p50/p90/p99/max per query kind and overall, requests/s, errors (must be 0), exact-match
 * misses (must be 0), and p99 against the target. Last line: one JSON object.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedCustomers } from '@meterline/server/seed/customers';
import { DEMO_PASSWORD } from '@meterline/server/seed/org';
import { benchOptions, count } from '../lib/args.ts';
import { openBenchServer, prepareDatabase } from '../lib/database.ts';
import { runLoad } from '../lib/load.ts';
import { cpuBusyPercent, machine, machineCpuMs, processCpuMs } from '../lib/machine.ts';
import { type LatencySummary, summarise } from '../lib/stats.ts';
import { EXACT_KINDS, QUERY_KINDS, type QueryKind, rng, sampleQueries } from './queries.ts';

const DATABASE = 'meterline_bench_search';
const SAMPLED_CUSTOMERS = 4_000;
const MODES = ['saturated', 'paced'] as const;
type Mode = (typeof MODES)[number];
const log = (msg: string) => console.log(`[bench:search] ${msg}`);

interface KindFigures extends LatencySummary {
  /** Mean matches found (capped at the search limit). */
  mean_total: number;
  /** Searches that found nothing, though the term was taken from a customer in scope. */
  empty: number;
  /** Exact kinds only: searches that did not return the named customer as an exact match. */
  misses?: number;
}

interface CpuFigures {
  /** CPU time per request of the server process, its PostgreSQL backends, and this load generator. */
  server_ms_per_request: number | null;
  postgres_ms_per_request: number | null;
  load_generator_ms_per_request: number;
  /** Share of the machine's CPU that other processes used during the run. */
  others_cpu_pct: number | null;
}

interface RunFigures extends LatencySummary {
  rps: number;
  errors: number;
  misses: number;
  p99_ratio_to_target: number;
  /** How busy the machine was just before this run (others' work skews the figures). */
  cpu_busy_before_pct: number | null;
  cpu: CpuFigures;
  kinds: Partial<Record<QueryKind, KindFigures>>;
}

/**
 * Where the CPU went during a run: the server, its PostgreSQL backends (when PostgreSQL runs on
 * this machine), this process, and everything else. CPU per request is steadier than requests
 * per second on a machine others use too.
 */
async function cpuMeter(serverPid: number, backends: () => Promise<number[]>) {
  const start = { server: processCpuMs(serverPid), self: process.cpuUsage(), machine: machineCpuMs() };
  const backendsAtStart = new Map((await backends()).map((pid) => [pid, processCpuMs(pid)]));
  return async (requests: number): Promise<CpuFigures> => {
    const server = processCpuMs(serverPid);
    const self = process.cpuUsage(start.self);
    const machineNow = machineCpuMs();
    let postgres: number | null = 0;
    for (const pid of new Set([...backendsAtStart.keys(), ...(await backends())])) {
      const now = processCpuMs(pid);
      const before = backendsAtStart.get(pid);
      if (now === null) continue;
      postgres += now - (before ?? 0);
    }
    if (backendsAtStart.size === 0 || [...backendsAtStart.values()].every((v) => v === null)) postgres = null;
    const serverMs = server !== null && start.server !== null ? server - start.server : null;
    const selfMs = (self.user + self.system) / 1000;
    const per = (ms: number | null) =>
      ms === null ? null : Math.round((ms / Math.max(1, requests)) * 100) / 100;
    let others: number | null = null;
    if (machineNow && start.machine && serverMs !== null && postgres !== null) {
      const busy = machineNow.busy - start.machine.busy;
      const total = machineNow.total - start.machine.total;
      others = Math.max(0, Math.round(((busy - serverMs - postgres - selfMs) / total) * 100));
    }
    return {
      server_ms_per_request: per(serverMs),
      postgres_ms_per_request: per(postgres),
      load_generator_ms_per_request: per(selfMs)!,
      others_cpu_pct: others,
    };
  };
}

interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
  poolSize: number | 'default';
  logFile: string;
}

async function startServerProcess(databaseUrl: string): Promise<ServerProcess> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const logFile = path.join(os.tmpdir(), 'meterline-bench-search-server.log');
  // The server logs every request; it writes them to a pipe (as under systemd or Docker), which
  // this process copies to the log file. Writing them to a file itself would make every log line a
  // synchronous disk write on the server's event loop.
  const child = fork(path.join(here, 'server.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.stdout?.pipe(createWriteStream(logFile));
  const ready = await new Promise<{ port: number; poolSize: number | 'default' }>((resolve, reject) => {
    child.once('message', (m: { port: number; poolSize: number | 'default' }) => resolve(m));
    child.once('exit', (code) =>
      reject(new Error(`the server exited (${code}) before it was ready; see ${logFile}`)),
    );
  });
  return { child, baseUrl: `http://127.0.0.1:${ready.port}`, poolSize: ready.poolSize, logFile };
}

async function login(baseUrl: string, username: string): Promise<string> {
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

const fmt = (ms: number) => ms.toFixed(1).padStart(7);

function printTable(kinds: RunFigures['kinds'], overall: RunFigures): void {
  log(`  ${'kind'.padEnd(15)} ${'n'.padStart(6)}     p50     p90     p99     max   found`);
  for (const [kind, k] of Object.entries(kinds)) {
    log(
      `  ${kind.padEnd(15)} ${String(k.requests).padStart(6)} ${fmt(k.p50_ms)} ${fmt(k.p90_ms)} ${fmt(k.p99_ms)} ${fmt(k.max_ms)} ${k.mean_total.toFixed(1).padStart(7)}`,
    );
  }
  log(
    `  ${'all'.padEnd(15)} ${String(overall.requests).padStart(6)} ${fmt(overall.p50_ms)} ${fmt(overall.p90_ms)} ${fmt(overall.p99_ms)} ${fmt(overall.max_ms)}   ${overall.rps}/s, p99/target ${overall.p99_ratio_to_target}, errors ${overall.errors}, misses ${overall.misses}`,
  );
  const c = overall.cpu;
  log(
    `  CPU per request: server ${c.server_ms_per_request} ms, PostgreSQL ${c.postgres_ms_per_request} ms, load generator ${c.load_generator_ms_per_request} ms; other processes used ${c.others_cpu_pct}% of the machine`,
  );
}

async function main(): Promise<void> {
  const opts = benchOptions({
    size: { type: 'string' },
    clients: { type: 'string' },
    seconds: { type: 'string' },
    requests: { type: 'string' },
    warmup: { type: 'string' },
    users: { type: 'string' },
    modes: { type: 'string' },
    'think-ms': { type: 'string' },
    target: { type: 'string' },
    seed: { type: 'string' },
    kinds: { type: 'string' },
    reseed: { type: 'boolean' },
  });
  const size = count(opts.size, 1_000_000, 'size');
  const clients = count(opts.clients, 50, 'clients');
  const seconds = count(opts.seconds, 30, 'seconds');
  const maxRequests = count(opts.requests, Number.MAX_SAFE_INTEGER, 'requests');
  const warmupSeconds = count(opts.warmup, 5, 'warmup');
  const thinkMs = count(opts['think-ms'], 1000, 'think-ms');
  const targetMs = count(opts.target, 50, 'target');
  const seed = count(opts.seed, 1, 'seed');
  const users = (opts.users ?? 'clerk,admin').split(',').filter(Boolean);
  const modes = (opts.modes ?? MODES.join(',')).split(',').filter(Boolean) as Mode[];
  for (const m of modes) {
    if (!MODES.includes(m)) throw new Error(`--modes: no mode "${m}"; modes are ${MODES.join(', ')}`);
  }
  if (size < 1 || clients < 1) throw new Error('--size and --clients must be at least 1');
  const onlyKinds = opts.kinds ? (opts.kinds.split(',') as QueryKind[]) : null;
  for (const k of onlyKinds ?? []) {
    if (!(k in QUERY_KINDS)) {
      throw new Error(`--kinds: no query kind "${k}"; kinds are ${Object.keys(QUERY_KINDS).join(', ')}`);
    }
  }

  const server = await openBenchServer(log);
  let child: ChildProcess | undefined;
  try {
    // ------------------------------------------------------------ the data
    let database = (await server.exists(DATABASE)) ? await prepareDatabase(server.urlOf(DATABASE)) : null;
    const have = database
      ? Number((await database.pool.query<{ n: string }>('select count(*) as n from customer')).rows[0]!.n)
      : 0;
    let seeded: { seconds: number; peak_rss_mb: number } | null = null;
    if (!database || have !== size || opts.reseed) {
      await database?.close();
      log(
        `creating ${DATABASE} with ${size.toLocaleString('en')} customers on ${server.where} (it had ${have.toLocaleString('en')})`,
      );
      await server.recreate(DATABASE);
      database = await prepareDatabase(server.urlOf(DATABASE));
      const result = await seedCustomers(database.pool, { customers: size, seed, log });
      seeded = { seconds: Math.round(result.seconds * 10) / 10, peak_rss_mb: result.peakRssMb };
    } else {
      log(`reusing ${DATABASE} on ${server.where}: ${have.toLocaleString('en')} customers`);
    }
    const db = database;

    // ------------------------------------------------------------ the server
    const started = await startServerProcess(db.url);
    child = started.child;
    log(
      `server (child process ${child.pid}) at ${started.baseUrl}, pool size ${started.poolSize}, log in ${started.logFile}`,
    );

    const results: Record<string, { offices: number[] | 'all' } & Partial<Record<Mode, RunFigures>>> = {};
    const all: Record<
      Mode,
      { samples: number[]; requests: number; seconds: number; errors: number; misses: number }
    > = {
      saturated: { samples: [], requests: 0, seconds: 0, errors: 0, misses: 0 },
      paced: { samples: [], requests: 0, seconds: 0, errors: 0, misses: 0 },
    };
    let errorsLogged = 0;
    for (const user of users) {
      const staff = await db.pool.query<{ org_wide: boolean; office_ids: number[] }>(
        `select r.org_wide, array(select office_id from staff_office so where so.staff_id = s.staff_id order by 1) as office_ids
         from staff s join role r using (role_code) where s.username = $1`,
        [user],
      );
      if (!staff.rows[0]) throw new Error(`no demo user ${user}`);
      const officeIds = staff.rows[0].org_wide ? null : staff.rows[0].office_ids.map(Number);
      const queries = await sampleQueries(db.pool, officeIds, SAMPLED_CUSTOMERS, seed, onlyKinds);
      const cookie = await login(started.baseUrl, user);
      const headers = { cookie, accept: 'application/json', 'accept-language': 'zh-CN' };
      const toRequest = () => {
        const query = queries.next();
        return { kind: query.kind, path: `/api/customers?q=${encodeURIComponent(query.q)}`, query };
      };
      results[user] = { offices: officeIds ?? 'all' };

      if (warmupSeconds > 0) {
        log(`${user}: warming up for ${warmupSeconds} s…`);
        await runLoad({
          baseUrl: started.baseUrl,
          headers,
          clients,
          durationMs: warmupSeconds * 1000,
          maxRequests: Number.MAX_SAFE_INTEGER,
          next: toRequest,
          onSample: () => {},
        });
      }

      for (const mode of modes) {
        const busyBefore = await cpuBusyPercent();
        if (busyBefore !== null && busyBefore > 15) {
          log(
            `  note: the machine was ${busyBefore}% busy just before this run; the figures include that load`,
          );
        }
        const measureCpu = await cpuMeter(child.pid!, async () =>
          (
            await db.pool.query<{ pid: number }>(
              `select pid from pg_stat_activity
               where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()`,
            )
          ).rows.map((r) => r.pid),
        );
        const samples = new Map<QueryKind, number[]>();
        const found = new Map<QueryKind, { totals: number; empty: number; misses: number }>();
        log(
          `${user} (${officeIds ? `offices ${officeIds.join(', ')}` : 'all offices'}), ${mode}: ${clients} clients${
            mode === 'paced' ? ` pausing ${thinkMs} ms on average` : ''
          } for ${seconds} s${maxRequests < Number.MAX_SAFE_INTEGER ? ` or ${maxRequests} requests` : ''}…`,
        );
        const load = await runLoad({
          baseUrl: started.baseUrl,
          headers,
          clients,
          durationMs: seconds * 1000,
          maxRequests,
          thinkMs: mode === 'paced' ? thinkMs : 0,
          random: rng(seed * 7919),
          next: toRequest,
          onSample: ({ request, ms, status, body }) => {
            const { kind, query } = request;
            const list = samples.get(kind) ?? [];
            samples.set(kind, list);
            list.push(ms);
            const f = found.get(kind) ?? { totals: 0, empty: 0, misses: 0 };
            found.set(kind, f);
            if (status === 200) {
              const reply = JSON.parse(body) as {
                total: number;
                items: { accountId: number; exact: boolean }[];
              };
              f.totals += reply.total;
              if (reply.total === 0) f.empty++;
              if (
                query.accountId !== undefined &&
                !reply.items.some((i) => i.accountId === query.accountId && i.exact)
              ) {
                if (f.misses++ < 3)
                  log(`  ${kind} "${query.q}" did not find account ${query.accountId} as an exact match`);
              }
            } else if (errorsLogged++ < 5) {
              log(`  ${kind} "${query.q}": HTTP ${status} ${body.slice(0, 300)}`);
            }
          },
        });
        const cpu = await measureCpu(load.requests);
        const kinds: RunFigures['kinds'] = {};
        let misses = 0;
        for (const kind of Object.keys(QUERY_KINDS) as QueryKind[]) {
          const list = samples.get(kind);
          if (!list) continue;
          const f = found.get(kind)!;
          kinds[kind] = {
            ...summarise(list),
            mean_total: Math.round((f.totals / list.length) * 10) / 10,
            empty: f.empty,
            ...(EXACT_KINDS.has(kind) ? { misses: f.misses } : {}),
          };
          misses += f.misses;
        }
        const everything = [...samples.values()].flat();
        const overall = summarise(everything);
        const figures: RunFigures = {
          ...overall,
          rps: Math.round(load.requests / load.seconds),
          errors: load.errors,
          misses,
          p99_ratio_to_target: Math.round((overall.p99_ms / targetMs) * 100) / 100,
          cpu_busy_before_pct: busyBefore,
          cpu,
          kinds,
        };
        results[user][mode] = figures;
        const sum = all[mode];
        sum.samples.push(...everything);
        sum.requests += load.requests;
        sum.seconds += load.seconds;
        sum.errors += load.errors;
        sum.misses += misses;
        printTable(kinds, figures);
      }
    }

    const total = (mode: Mode) => {
      const s = all[mode];
      const overall = summarise(s.samples);
      return {
        ...overall,
        rps: s.seconds > 0 ? Math.round(s.requests / s.seconds) : 0,
        errors: s.errors,
        misses: s.misses,
        p99_ratio_to_target: Math.round((overall.p99_ms / targetMs) * 100) / 100,
      };
    };
    await db.close();
    const figures = {
      bench: 'search',
      customers: size,
      where: server.where,
      clients,
      seconds_per_run: seconds,
      target_p99_ms: targetMs,
      // Saturated: every user's requests together.
      ...(modes.includes('saturated') ? total('saturated') : {}),
      ...(modes.includes('paced') ? { paced: { think_ms: thinkMs, ...total('paced') } } : {}),
      pool_size: started.poolSize,
      ...machine(),
      ...(seeded ? { seed: seeded } : {}),
      users: results,
    };
    console.log(JSON.stringify(figures));
  } finally {
    child?.kill('SIGTERM');
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
