/**
 * The measured part of bench/bill-run, in its own process (see index.ts, billRun): one bill run
 * over every office up to a day, with the server's BillRunner writing through COPY, as POST
 * /api/bill-runs runs it in the background. Prints progress lines starting with "[" and, last,
 * one JSON object (RunResult).
 *
 *   node --import tsx bench/bill-run/run.ts <database url> <up to> <chunk accounts>
 */
import os from 'node:os';
import { type BillRun, BillRunner, type RunnerOptions } from '@meterline/server/billing/runner';
import { createPool } from '@meterline/server/db/pg';
import type { DB } from '@meterline/server/db/schema';
import { Kysely, PostgresDialect } from 'kysely';
import { machineCpuMs, processCpuMs } from '../lib/machine.ts';

export interface RunResult {
  run: BillRun;
  seconds: number;
  /** Peak RSS of this process (the kernel's high-water mark), MB. */
  peakRssMb: number;
  cpu: {
    node_cpu_s: number;
    postgres_cpu_s: number;
    node_us_per_bill: number | null;
    postgres_us_per_bill: number | null;
    others_cpu_pct: number | null;
  };
  /** Where the run's time went (BillRunner.lastTimings), in seconds. */
  timings: Record<string, number>;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const [url, upTo, chunk] = process.argv.slice(2);
  if (!url || !upTo || !chunk) throw new Error('usage: run.ts <database url> <up to> <chunk accounts>');
  const pool = createPool(url, 4);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const quiet = { info() {}, warn() {}, error: (obj: unknown, msg?: string) => console.error(msg, obj) };
  const runner = new BillRunner(db, {
    pool,
    chunkAccounts: Number(chunk),
    logger: quiet as unknown as RunnerOptions['logger'],
  });
  const run = await db
    .insertInto('bill_run')
    .values({ scope: 'all', up_to: upTo, status: 'pending', office_ids: null })
    .returning('run_id')
    .executeTakeFirstOrThrow();
  const backends = async () =>
    (
      await pool.query<{ pid: number }>(
        'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
      )
    ).rows.map((r) => r.pid);
  const pgCpuStart = new Map<number, number>();
  const sampleBackends = async () => {
    for (const pid of await backends()) if (!pgCpuStart.has(pid)) pgCpuStart.set(pid, processCpuMs(pid) ?? 0);
  };
  // The pool's connections exist from the first query on; note where their CPU time starts.
  await Promise.all([
    pool.query('select 1'),
    pool.query('select 1'),
    pool.query('select 1'),
    pool.query('select 1'),
  ]);
  await sampleBackends();
  const machineBefore = machineCpuMs();
  const selfBefore = process.cpuUsage();
  const started = Date.now();
  runner.enqueue(run.run_id);
  let done = false;
  const finished = runner.idle().then(() => {
    done = true;
  });
  let lastLog = started;
  while (!done) {
    await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 500))]);
    await sampleBackends();
    if (Date.now() - lastLog > 10_000 && !done) {
      lastLog = Date.now();
      const r = await db
        .selectFrom('bill_run')
        .select(['accounts_done', 'accounts_total', 'billed'])
        .where('run_id', '=', run.run_id)
        .executeTakeFirstOrThrow();
      console.log(
        `[bench:bill-run]   ${((r.accounts_done / Math.max(1, r.accounts_total)) * 100).toFixed(1)}%: ${r.billed.toLocaleString('en')} bills, ${Math.round(r.billed / ((Date.now() - started) / 1000))}/s, RSS ${Math.round(process.memoryUsage().rss / 1048576)} MB`,
      );
    }
  }
  const seconds = (Date.now() - started) / 1000;
  const self = process.cpuUsage(selfBefore);
  const machineAfter = machineCpuMs();
  let pgCpuMs = 0;
  for (const [pid, before] of pgCpuStart) {
    const after = processCpuMs(pid);
    if (after !== null) pgCpuMs += after - before;
  }
  const result = await db
    .selectFrom('bill_run')
    .selectAll()
    .where('run_id', '=', run.run_id)
    .executeTakeFirstOrThrow();
  await runner.stop();
  const nodeCpuMs = (self.user + self.system) / 1000;
  const machineBusyMs = machineBefore && machineAfter ? machineAfter.busy - machineBefore.busy : null;
  const timings = runner.lastTimings ?? { loadMs: 0, priceMs: 0, writeMs: 0, waitMs: 0, chunks: 0 };
  const out: RunResult = {
    run: result,
    seconds,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    cpu: {
      node_cpu_s: round1(nodeCpuMs / 1000),
      postgres_cpu_s: round1(pgCpuMs / 1000),
      node_us_per_bill: result.billed ? Math.round((nodeCpuMs * 1000) / result.billed) : null,
      postgres_us_per_bill: result.billed ? Math.round((pgCpuMs * 1000) / result.billed) : null,
      others_cpu_pct:
        machineBusyMs === null
          ? null
          : Math.max(
              0,
              Math.round(((machineBusyMs - nodeCpuMs - pgCpuMs) / (seconds * 1000 * os.cpus().length)) * 100),
            ),
    },
    timings: {
      load_s: round1(timings.loadMs / 1000),
      price_s: round1(timings.priceMs / 1000),
      write_s: round1(timings.writeMs / 1000),
      wait_s: round1(timings.waitMs / 1000),
      chunks: timings.chunks,
    },
  };
  await db.destroy();
  console.log(JSON.stringify(out));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
