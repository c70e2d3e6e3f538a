/**
 * bench/registers — how fast smart meters' register reads (远传日冻结读数) are checked and stored:
 * a day's files through POST /api/readings/registers.
 *
 *   npm run bench -- registers [--size 1000000] [--customers N] [--history-days 30] [--parallel 2]
 *                              [--first] [--reseed] [--keep]
 *
 * Uses the readings benchmark's database (meterline_bench_readings: customers, books and 14 months of
 * billing readings; seeded the same way when missing). Its register reads are emptied, then
 * --history-days days of register reads up to the day before yesterday are written for every meter in
 * service (SQL, not timed). Then, with the real server in a child process:
 *
 *   cold   yesterday's files on the server just started: each office's meters, and each meter's
 *          newest read, looked up from the database;
 *   day    today's files on the same server, which kept the meters and their state from yesterday's
 *          (as on every day of a running server). A day's files: one CSV per office, --size reads in
 *          all (one per meter, read at midnight): about 1% far above the meter's use, 0.3% below its
 *          last read, 0.5% with a meter alarm, 0.2% unknown meters; --parallel files at a time, as
 *          the analyst;
 *   again  the first office's file sent again: every read recognised, nothing stored;
 *   settle billing readings from the day's register reads (远传结算, POST
 *          /api/readings/registers/billing), every office's books planned yesterday: every book of
 *          the database is planned yesterday for a period of the bench's own ('2099-01', so that no
 *          meter has its billing reading yet), the real plans of yesterday set aside; all of it,
 *          and the readings stored, removed afterwards;
 *   first  (--first) the day's files once more on empty register reads: every meter's first read,
 *          checked against where its billing readings leave it;
 *   copy   the baseline: a plain COPY of the same finished rows into a copy of register_read;
 *   views  the analyst's exceptions page and a customer's register chart, timed.
 *
 * CPU time of the server and of its PostgreSQL backends is reported per read. Last line: one JSON
 * object.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { addDays, todayInChina } from '@meterline/domain';
import { HISTORY_MONTHS } from '@meterline/server/seed/readings';
import copyStreams from 'pg-copy-streams';
import { benchOptions, count } from '../lib/args.ts';
import { type BenchDatabase, openBenchServer, prepareDatabase } from '../lib/database.ts';
import { cpuBusyPercent, machine } from '../lib/machine.ts';
import {
  cpuMeter,
  login,
  rng,
  type ServerProcess,
  seedIfNeeded,
  startServerProcess,
  timedGet,
} from '../lib/readingBench.ts';
import { peakRssMb } from '../lib/stats.ts';

const DATABASE = 'meterline_bench_readings';
const TARGET_READS_PER_S = 100_000;
const DAY_MS = 86_400_000;
const log = (msg: string) => console.log(`[bench:registers] ${msg}`);
const round1 = (x: number) => Math.round(x * 10) / 10;

interface BenchMeter {
  account_id: number;
  meter_id: number;
  meter_no: string;
  office_id: number;
  office_code: string;
  /** Where its register stands after the history written, and its daily use (thousandths). */
  register_milli: number;
  daily_milli: number;
  dial_digits: number;
}

/** Midnight in China `n` days before today, as an instant. */
function midnight(n: number): Date {
  return new Date(Date.parse(`${todayInChina()}T00:00:00+08:00`) - n * DAY_MS);
}

async function clearRegisters(database: BenchDatabase) {
  await database.pool.query('truncate register_read, register_conflict, register_file');
}

/**
 * Every meter in service with where its billing readings leave its register and its daily use, kept
 * in a table for the run (the lateral over a million meters takes a while).
 */
async function benchMeters(database: BenchDatabase): Promise<void> {
  await database.pool.query('drop table if exists bench_register_meter');
  await database.pool.query(
    `create table bench_register_meter as
     select m.account_id, m.meter_id, m.meter_no, c.office_id, o.code as office_code, m.dial_digits,
            (coalesce(l.register, m.initial_index) * 1000)::int8 as start_milli,
            greatest(50, round(coalesce(l.daily, 0.5) * 1000))::int8 as daily_milli
     from meter m
     join customer c on c.account_id = m.account_id
     join office o on o.office_id = c.office_id
     left join lateral (
       select case when r.kind = 'actual' then r.index_value else r.previous_index + r.consumption_m3 end as register,
              r.consumption_m3 / 60 as daily
       from reading r where r.account_id = m.account_id and r.meter_id = m.meter_id and r.status = 'accepted'
       order by r.read_at desc limit 1) l on true
     where m.state = 'in_service'`,
  );
}

/**
 * `days` days of register reads for every meter, ending the day before yesterday at midnight: as the
 * days before would leave them.
 */
async function writeHistory(database: BenchDatabase, days: number): Promise<number> {
  if (days === 0) return 0;
  const file = await database.pool.query<{ file_id: number }>(
    `insert into register_file (office_id, file_name, request_id, finished_at)
     values ((select min(office_id) from office), 'bench history', 'bench', now()) returning file_id`,
  );
  const first = midnight(days + 1).toISOString();
  await database.pool.query('select ensure_register_weeks($1, now())', [first]);
  const res = await database.pool.query(
    `insert into register_read (account_id, meter_id, read_at, index_milli, flags, consumption_milli, days,
                                expected_milli, daily_milli, file_id)
     select b.account_id, b.meter_id, $1::timestamptz + (k - 1) * interval '1 day',
            (b.start_milli + k * b.daily_milli) % (10::int8 ^ (b.dial_digits + 3))::int8, 0, b.daily_milli, 1,
            b.daily_milli, b.daily_milli, $2
     from bench_register_meter b cross join generate_series(1, $3::int) k`,
    [first, file.rows[0]!.file_id, days],
  );
  await database.pool.query('vacuum analyze register_read');
  return res.rowCount ?? 0;
}

/** The bench's own period for the billing readings of `settle` (none of the database's). */
const SETTLE_PERIOD = '2099-01';

/**
 * Billing readings from register reads for yesterday (whose end is today's midnight, the day files'
 * read time) over every book: the real plans of yesterday set aside, every active book planned then
 * for SETTLE_PERIOD, each office settled through the API; then the readings, their follow-ups, the
 * runs and the plans put back as they were.
 */
async function settleAll(
  database: BenchDatabase,
  base: string,
  analyst: string,
  serverPid: number,
  parallel: number,
) {
  const day = addDays(todayInChina(), -1);
  const pool = database.pool;
  const aside = await pool.query<{ book_id: number; period: string }>(
    `update reading_plan set planned_on = planned_on - 36500 where planned_on = $1 returning book_id, period`,
    [day],
  );
  try {
    await pool.query(
      `insert into reading_plan (book_id, period, planned_on, original_on)
       select book_id, $1, $2, $2 from book where active`,
      [SETTLE_PERIOD, day],
    );
    const offices = (
      await pool.query<{ office_id: number }>(
        `select distinct b.office_id from book b where b.active order by b.office_id`,
      )
    ).rows.map((r) => r.office_id);
    const busyBefore = await cpuBusyPercent();
    const cpu = await cpuMeter(database, serverPid);
    const totals = { meters: 0, stored: 0, accepted: 0, review: 0, conflict: 0, otherwise: 0, missing: 0 };
    const stages = { select: 0, ingest: 0 };
    const started = performance.now();
    const queue = [...offices];
    const worker = async () => {
      for (let office = queue.shift(); office !== undefined; office = queue.shift()) {
        const t = performance.now();
        const res = await fetch(`${base}/api/readings/registers/billing?officeId=${office}`, {
          method: 'POST',
          headers: { cookie: analyst, 'content-type': 'application/json' },
          body: JSON.stringify({ day }),
        });
        if (res.status !== 200)
          throw new Error(`settle ${office}: ${res.status} ${(await res.text()).slice(0, 300)}`);
        const r = (await res.json()) as typeof totals & {
          stages: { selectSeconds: number; ingestSeconds: number };
        };
        for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r[k];
        stages.select += r.stages.selectSeconds;
        stages.ingest += r.stages.ingestSeconds;
        const s = (performance.now() - t) / 1000;
        log(
          `settle office ${office}: ${r.stored.toLocaleString('en')} readings of ${r.meters.toLocaleString('en')} smart meters in ${round1(s)} s = ${Math.round(r.stored / s)}/s (finding them ${round1(r.stages.selectSeconds)} s, storing ${round1(r.stages.ingestSeconds)} s; review ${r.review}, missing ${r.missing})`,
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, offices.length) }, worker));
    const seconds = (performance.now() - started) / 1000;
    const stored = Number(
      (
        await pool.query(
          `select count(*) as n from reading where period = $1 and client_id like 'register:%'`,
          [SETTLE_PERIOD],
        )
      ).rows[0].n,
    );
    if (stored !== totals.stored)
      throw new Error(`settle stored ${stored} readings, the answers say ${totals.stored}`);
    const figures = {
      day,
      offices: offices.length,
      ...totals,
      seconds: round1(seconds),
      readings_per_s: Math.round(totals.stored / seconds),
      server_select_seconds: round1(stages.select),
      server_ingest_seconds: round1(stages.ingest),
      cpu_busy_before_pct: busyBefore,
      cpu: await cpu(totals.stored),
    };
    log(
      `settle: ${totals.stored.toLocaleString('en')} billing readings from register reads in ${figures.seconds} s = ${figures.readings_per_s}/s; CPU a reading: server ${figures.cpu.server_cpu_us_per_reading} µs, PostgreSQL ${figures.cpu.postgres_cpu_us_per_reading} µs`,
    );
    return figures;
  } finally {
    await pool.query(
      `delete from followup f using reading r
       where r.period = $1 and r.client_id like 'register:%' and f.account_id = r.account_id and f.reading_id = r.reading_id`,
      [SETTLE_PERIOD],
    );
    await pool.query(`delete from reading where period = $1 and client_id like 'register:%'`, [
      SETTLE_PERIOD,
    ]);
    await pool.query(`delete from reading_plan where period = $1`, [SETTLE_PERIOD]);
    await pool.query(`delete from register_billing where day = $1`, [day]);
    if (aside.rowCount)
      await pool.query(
        `update reading_plan p set planned_on = planned_on + 36500
         from unnest($1::bigint[], $2::text[]) as a(book_id, period)
         where p.book_id = a.book_id and p.period = a.period`,
        [aside.rows.map((r) => r.book_id), aside.rows.map((r) => r.period)],
      );
  }
}

/** Text lines in blocks of a few MB, as COPY wants them. */
function blocks(lines: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i += 50_000) out.push(lines.slice(i, i + 50_000).join(''));
  return out;
}

async function main(): Promise<void> {
  const opts = benchOptions({
    size: { type: 'string' },
    customers: { type: 'string' },
    'history-days': { type: 'string' },
    parallel: { type: 'string' },
    first: { type: 'boolean' },
    reseed: { type: 'boolean' },
    keep: { type: 'boolean' },
  });
  const size = count(opts.size, 1_000_000, 'size');
  // About 88% of the demo's customers have a water or gas meter in service.
  const customers = count(opts.customers, Math.ceil(size / 0.86), 'customers');
  const historyDays = count(opts['history-days'], 30, 'history-days');
  const parallel = Math.max(1, count(opts.parallel, 2, 'parallel'));

  const server = await openBenchServer(log);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'meterline-bench-registers-'));
  let child: ServerProcess | null = null;
  try {
    if (opts.reseed || !(await server.exists(DATABASE))) await server.recreate(DATABASE);
    const database = await prepareDatabase(server.urlOf(DATABASE));
    try {
      await seedIfNeeded(database, log, customers, opts.reseed ?? false, HISTORY_MONTHS);
      await clearRegisters(database);
      let t0 = performance.now();
      await benchMeters(database);
      const historyReads = await writeHistory(database, historyDays);
      log(
        `${historyReads.toLocaleString('en')} register reads of ${historyDays} days written in ${round1((performance.now() - t0) / 1000)} s`,
      );
      const meters = (
        await database.pool.query<BenchMeter>(
          `select account_id, meter_id, meter_no, office_id, office_code, dial_digits, daily_milli,
                  (start_milli + ${historyDays} * daily_milli) % (10::int8 ^ (dial_digits + 3))::int8 as register_milli
           from bench_register_meter order by office_id, account_id, meter_id`,
        )
      ).rows;
      if (meters.length < size)
        throw new Error(
          `only ${meters.length} meters in service: raise --customers (now ${customers}) for --size ${size}`,
        );

      // ------------------------------------------------------------ two days' files, one per office
      const r = rng(11);
      const offices = [...new Set(meters.map((m) => m.office_code))];
      const m3 = (milli: number, dial: number) => {
        const v = ((milli % 10 ** (dial + 3)) + 10 ** (dial + 3)) % 10 ** (dial + 3);
        return `${Math.floor(v / 1000)}.${String(v % 1000).padStart(3, '0')}`;
      };
      type DayFile = { officeId: number; code: string; file: string; rows: number };
      /** The files of the day `n` days ago; `register` moves each meter on by what it read. */
      const dayFiles = async (n: number, register: Float64Array): Promise<DayFile[]> => {
        const at = midnight(n).toISOString();
        const files: DayFile[] = [];
        let left = size;
        for (const [i, code] of offices.entries()) {
          const own = meters.flatMap((m, at) => (m.office_code === code ? [at] : []));
          const take =
            i === offices.length - 1 ? left : Math.min(left, Math.round((size * own.length) / meters.length));
          left -= take;
          const lines = ['表号,抄表时间,读数,异常代码'];
          for (const at0 of own.slice(0, take)) {
            const m = meters[at0]!;
            const x = r();
            const use = Math.round(m.daily_milli * (0.7 + r() * 0.6));
            const next = register[at0]! + use;
            if (x < 0.002) lines.push(`X${m.meter_no},${at},${m3(next, m.dial_digits)},`);
            else if (x < 0.005)
              lines.push(`${m.meter_no},${at},${m3(register[at0]! - 5000, m.dial_digits)},`);
            else if (x < 0.01) {
              lines.push(`${m.meter_no},${at},${m3(next, m.dial_digits)},leak`);
              register[at0] = next;
            } else if (x < 0.02)
              lines.push(`${m.meter_no},${at},${m3(register[at0]! + use * 10 + 1000, m.dial_digits)},`);
            else {
              lines.push(`${m.meter_no},${at},${m3(next, m.dial_digits)},`);
              register[at0] = next;
            }
          }
          const file = path.join(tmp, `day-${n}-office-${code}.csv`);
          await writeFile(file, `${lines.join('\n')}\n`);
          files.push({ officeId: meters[own[0]!]!.office_id, code, file, rows: take });
        }
        return files;
      };
      const registers = Float64Array.from(meters, (m) => m.register_milli);
      const yesterdayFiles = await dayFiles(1, registers);
      const files = await dayFiles(0, registers);
      const at = midnight(0).toISOString();

      child = await startServerProcess(server.urlOf(DATABASE), 'registers');
      const base = child.baseUrl;
      const analyst = await login(base, 'analyst');
      interface Report {
        rows: number;
        stored: number;
        flagged: number;
        duplicate: number;
        conflict: number;
        rejected: number;
        stages: { parseSeconds: number; loadSeconds: number; checkSeconds: number; writeSeconds: number };
      }
      const send = async (f: DayFile): Promise<Report> => {
        const form = new FormData();
        form.append('file', new Blob([await readFile(f.file)], { type: 'text/csv' }), path.basename(f.file));
        const res = await fetch(`${base}/api/readings/registers?officeId=${f.officeId}`, {
          method: 'POST',
          headers: { cookie: analyst },
          body: form,
        });
        if (res.status !== 200)
          throw new Error(`registers ${f.code}: ${res.status} ${(await res.text()).slice(0, 300)}`);
        return (await res.json()) as Report;
      };
      /** All files, --parallel at a time: the totals, the time, and the CPU spent. */
      const run = async (label: string, files: DayFile[]) => {
        const totals = { rows: 0, stored: 0, flagged: 0, duplicate: 0, conflict: 0, rejected: 0 };
        const stages = { parse: 0, load: 0, check: 0, write: 0 };
        const busyBefore = await cpuBusyPercent();
        const cpu = await cpuMeter(database, child!.child.pid!);
        const started = performance.now();
        const queue = [...files];
        const worker = async () => {
          for (let f = queue.shift(); f; f = queue.shift()) {
            const t = performance.now();
            const report = await send(f);
            for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += report[k];
            stages.parse += report.stages.parseSeconds;
            stages.load += report.stages.loadSeconds;
            stages.check += report.stages.checkSeconds;
            stages.write += report.stages.writeSeconds;
            const s = (performance.now() - t) / 1000;
            log(
              `${label} ${f.code}: ${report.rows.toLocaleString('en')} reads in ${round1(s)} s = ${Math.round(report.rows / s)}/s (flagged ${report.flagged}, rejected ${report.rejected})`,
            );
          }
        };
        await Promise.all(Array.from({ length: Math.min(parallel, files.length) }, worker));
        const seconds = (performance.now() - started) / 1000;
        const readsPerS = Math.round(totals.rows / seconds);
        const figures = {
          seconds: round1(seconds),
          reads_per_s: readsPerS,
          ratio_to_target: Math.round((readsPerS / TARGET_READS_PER_S) * 100) / 100,
          ...totals,
          server_parse_seconds: round1(stages.parse),
          server_load_seconds: round1(stages.load),
          server_check_seconds: round1(stages.check),
          server_write_seconds: round1(stages.write),
          cpu_busy_before_pct: busyBefore,
          cpu: await cpu(totals.rows),
        };
        log(
          `${label}: ${totals.rows.toLocaleString('en')} reads in ${figures.seconds} s = ${readsPerS}/s (${figures.ratio_to_target} of the target); CPU a read: server ${figures.cpu.server_cpu_us_per_reading} µs, PostgreSQL ${figures.cpu.postgres_cpu_us_per_reading} µs; others took ${figures.cpu.others_cpu_pct}%`,
        );
        return figures;
      };

      // Yesterday's files on a server just started (each office's meters and their state read from
      // the database), then today's on the same server (kept from yesterday's, as every day after).
      const cold = await run('cold', yesterdayFiles);
      const day = await run('day', files);
      const expectedStored = day.stored + day.flagged;
      const storedToday = Number(
        (await database.pool.query('select count(*) as n from register_read where read_at = $1', [at]))
          .rows[0].n,
      );
      if (storedToday !== expectedStored)
        throw new Error(`stored ${storedToday} reads, the reports say ${expectedStored}`);
      t0 = performance.now();
      const againReport = await send(files[0]!);
      const againSeconds = (performance.now() - t0) / 1000;
      const again = {
        rows: againReport.rows,
        seconds: round1(againSeconds),
        reads_per_s: Math.round(againReport.rows / againSeconds),
        duplicate: againReport.duplicate,
        stored: againReport.stored + againReport.flagged,
      };
      log(`again: ${JSON.stringify(again)}`);

      // Billing readings from the day's register reads: every meter of every book, --parallel
      // offices at a time (the daily job does them one after another).
      const settle = await settleAll(database, base, analyst, child.child.pid!, parallel);

      // The analyst's views over the day.
      const timed = (url: string) => timedGet(base, analyst, url);
      const views = {
        exceptions_ms: await timed('/api/readings/registers/exceptions?pageSize=50'),
        exceptions_office_ms: await timed(
          `/api/readings/registers/exceptions?pageSize=50&officeId=${files[0]!.officeId}`,
        ),
        customer_chart_ms: await timed(`/api/customers/${meters[0]!.account_id}/registers?days=365`),
        files_ms: await timed('/api/readings/registers/files'),
      };
      log(`views: ${JSON.stringify(views)}`);

      // The floor: the same number of finished rows COPYed into a copy of register_read.
      const client = await database.pool.connect();
      let copySeconds: number;
      try {
        await client.query('begin');
        await client.query(
          'create temp table register_copy (like register_read including all) on commit drop',
        );
        const lines = meters
          .slice(0, day.rows)
          .map(
            (m) =>
              `${m.account_id}\t${m.meter_id}\t${at}\t${m.register_milli}\t0\t500\t1\t500\t500\t\\N\t\\N\t\\N\t1\n`,
          );
        const c0 = performance.now();
        await pipeline(
          Readable.from(blocks(lines)),
          client.query(copyStreams.from('copy register_copy from stdin')),
        );
        copySeconds = (performance.now() - c0) / 1000;
        await client.query('rollback');
      } finally {
        client.release();
      }
      log(
        `baseline: COPY of ${day.rows.toLocaleString('en')} finished rows: ${round1(copySeconds)} s = ${Math.round(day.rows / copySeconds)}/s`,
      );

      let first = null;
      if (opts.first) {
        await clearRegisters(database);
        first = await run('first', files);
      }
      if (!opts.keep) {
        await clearRegisters(database);
        await database.pool.query('drop table if exists bench_register_meter');
      }
      console.log(
        JSON.stringify({
          bench: 'registers',
          reads: day.rows,
          customers,
          meters: meters.length,
          history_days: historyDays,
          history_reads: historyReads,
          where: server.where,
          machine: machine(),
          target_reads_per_s: TARGET_READS_PER_S,
          cold,
          day: {
            ...day,
            files: files.length,
            parallel,
            copy_seconds: round1(copySeconds),
            copy_reads_per_s: Math.round(day.rows / copySeconds),
            ratio_to_copy: Math.round((copySeconds / day.seconds) * 100) / 100,
          },
          again,
          settle,
          first,
          views,
          peak_rss_mb: peakRssMb(),
        }),
      );
    } finally {
      await database.close();
    }
  } finally {
    child?.child.kill('SIGTERM');
    await rm(tmp, { recursive: true, force: true });
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
