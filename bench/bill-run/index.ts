/**
 * bench/bill-run — how fast a bill run bills a utility's readings, against a plain COPY of the
 * same rows.
 *
 *   npm run bench -- bill-run [--size 1000000] [--chunk 5000] [--reseed] [--again] [--keep-bills]
 *
 * Uses the database meterline_bench_billrun: reused when it holds --size accounts, else (or with
 * --reseed) recreated and filled by a set-based generator (INSERT … SELECT over generate_series, a
 * chunk of accounts per transaction, secondary indexes and foreign keys set aside and rebuilt at
 * the end): --size water accounts in the demo's five offices (95% households on the tiered
 * residential tariff, 5% organisations on flat non-residential and special-industry tariffs, all
 * with the sewage and water-resource surcharges; 2% low-income households; one master meter per
 * 1,000 accounts with ten sub-meters; 0.1% closed customers, whose readings are exceptions), each
 * with a year of readings — six, two months apart, the last read in the past four weeks — and
 * the first five already billed (so the run reads the year's block usage from them). The last
 * reading of 1 account in 500 waits in review, of 1 in 50 is an estimate.
 *
 * Then it starts a bill run over everything up to yesterday (BillRunner, the server's own, with
 * COPY through a pool: exactly what POST /api/bill-runs does in the background) and reports its
 * wall time, bills per second and the peak RSS of this process; checks that every billable
 * reading got exactly one bill; and, in the same run, times a plain COPY of the bill and bill_line
 * rows it wrote into empty tables with the same indexes (`copy_seconds`, the floor under any bill
 * run on this machine). With --again a second run over the same scope shows the idempotent
 * no-op. The run's bills, lines and SMS are deleted at the end (unless --keep-bills) so the next
 * run starts from the same state. Last line: one JSON object.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { addDays, todayInChina } from '@meterline/domain';
import { BILL_RUN_CHUNK_ACCOUNTS } from '@meterline/server/billing/runner';
import { SERVER_NODE_FLAGS } from '@meterline/server/platform/nodeFlags';
import { ensureDefaultTariffs } from '@meterline/server/seed/tariffs';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { benchOptions, count } from '../lib/args.ts';
import { type BenchDatabase, openBenchServer, prepareDatabase } from '../lib/database.ts';
import { cpuBusyPercent, machine } from '../lib/machine.ts';
import { peakRssMb } from '../lib/stats.ts';
import type { RunResult } from './run.ts';

const DATABASE = 'meterline_bench_billrun';
const RUN_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'run.ts');
const TARGET_SECONDS = 120;
const TARGET_RATIO_TO_COPY = 3;
const TARGET_PEAK_RSS_MB = 1024;
/** Accounts generated per transaction by the set-based generator. */
const GENERATE_CHUNK = 100_000;
const READINGS_PER_ACCOUNT = 6;
const READING_GAP_DAYS = 61;
const log = (msg: string) => console.log(`[bench:bill-run] ${msg}`);
const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** The tables the generator fills, whose secondary indexes and foreign keys it sets aside. */
const FILLED = ['customer', 'contact', 'address', 'service_point', 'meter', 'reading', 'bill'] as const;

interface SetAside {
  indexes: { name: string; definition: string }[];
  foreignKeys: { table: string; name: string; definition: string }[];
}
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function setAside(client: pg.PoolClient): Promise<SetAside> {
  const indexes = await client.query<{ name: string; definition: string }>(
    `select i.relname as name, pg_get_indexdef(x.indexrelid) as definition
     from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
     where t.relname = any($1) and t.relnamespace = current_schema()::regnamespace
       and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)`,
    [FILLED],
  );
  const foreignKeys = await client.query<{ table: string; name: string; definition: string }>(
    `select t.relname as table, c.conname as name, pg_get_constraintdef(c.oid) as definition
     from pg_constraint c join pg_class t on t.oid = c.conrelid
     where c.contype = 'f' and t.relname = any($1) and t.relnamespace = current_schema()::regnamespace`,
    [FILLED],
  );
  for (const fk of foreignKeys.rows)
    await client.query(`alter table ${ident(fk.table)} drop constraint ${ident(fk.name)}`);
  for (const index of indexes.rows) await client.query(`drop index ${ident(index.name)}`);
  return { indexes: indexes.rows, foreignKeys: foreignKeys.rows };
}

async function restore(client: pg.PoolClient, aside: SetAside): Promise<void> {
  await client.query("set maintenance_work_mem = '512MB'");
  for (const index of aside.indexes) await client.query(index.definition);
  for (const fk of aside.foreignKeys)
    await client.query(`alter table ${ident(fk.table)} add constraint ${ident(fk.name)} ${fk.definition}`);
}

/** Fills the database: accounts, meters, a year of readings, the first five of them billed. */
async function generate(database: BenchDatabase, accounts: number, yesterday: string): Promise<number> {
  const started = Date.now();
  await ensureDefaultTariffs(database.db);
  const offices = (
    await database.pool.query<{ office_id: number }>('select office_id from office order by code')
  ).rows.map((o) => o.office_id);
  const client = await database.pool.connect();
  try {
    await client.query("set work_mem = '256MB'");
    const aside = await setAside(client);
    for (let lo = 1; lo <= accounts; lo += GENERATE_CHUNK) {
      const hi = Math.min(accounts, lo + GENERATE_CHUNK - 1);
      await client.query('begin');
      await client.query(
        `insert into customer (account_id, office_id, customer_code, kind, name, credit_code, state, connected_on,
                               low_income, low_income_reduction_m3, notice_delivery, search_key)
         select g, ($3::bigint[])[1 + g % cardinality($3::bigint[])], lpad(g::text, 12, '0'),
                case when g % 20 = 0 then 'organisation' else 'person' end,
                case when g % 20 = 0 then '郑州测试' || g || '有限公司' else '住户' || g end,
                case when g % 20 = 0 then '9141' || lpad(g::text, 14, '0') end,
                case when g % 997 = 0 then 'closed' else 'active' end, date '2015-01-01',
                g % 50 = 1, case when g % 50 = 1 then 5 else 0 end, 'sms', ''
         from generate_series($1::bigint, $2::bigint) g`,
        [lo, hi, offices],
      );
      await client.query(
        `insert into contact (account_id, contact_id, name, relation, phone, is_primary)
         select g, 1, '住户' || g, 'self',
                case when g % 10 = 0 then '0371-' || lpad((g % 100000000)::text, 8, '0')
                     else '13' || lpad((g % 1000000000)::text, 9, '0') end, true
         from generate_series($1::bigint, $2::bigint) g`,
        [lo, hi],
      );
      await client.query(
        `insert into address (account_id, address_id, kind, district, community, building, unit, door)
         select g, 1, 'supply', '金水区', '测试小区' || (g / 600), ((g / 50) % 28 + 1)::text, ((g / 10) % 6 + 1)::text,
                (g % 10 + 101)::text
         from generate_series($1::bigint, $2::bigint) g`,
        [lo, hi],
      );
      await client.query(
        `insert into service_point (account_id, service_point_id, address_id, usage_type_code)
         select g, 1, 1, case when g % 20 = 0 then (array['W_BIZ', 'W_IND', 'W_ADM', 'W_SPC'])[1 + (g / 20) % 4]
                              else 'W_RES' end
         from generate_series($1::bigint, $2::bigint) g`,
        [lo, hi],
      );
      await client.query(
        `insert into meter (account_id, meter_id, service_point_id, meter_no, utility, caliber_dn, role,
                            master_meter_no, dial_digits, initial_index, install_date)
         select g, 1, 1, 'W' || lpad(g::text, 9, '0'), 'water', case when g % 20 = 0 then 50 else 15 end,
                case when g % 1000 = 500 then 'master' else 'settlement' end,
                case when g % 1000 between 501 and 510 then 'W' || lpad((g - g % 1000 + 500)::text, 9, '0') end,
                5, 0, date '2015-01-01'
         from generate_series($1::bigint, $2::bigint) g`,
        [lo, hi],
      );
      // Six readings two months apart; consumption by kind of account; the index adds them up.
      await client.query(
        `insert into reading (account_id, reading_id, meter_id, period, read_at, previous_index, index_value,
                              consumption_m3, kind, source, status)
         select g, g * 8 + k, 1, to_char(d, 'YYYY-MM'), (d + time '10:00') at time zone 'Asia/Shanghai',
                coalesce(sum(c) over w - c, 0),
                case when kind = 'estimated' then null else sum(c) over w end,
                c, kind, 'handheld', status
         from generate_series($1::bigint, $2::bigint) g
         cross join generate_series(0, ${READINGS_PER_ACCOUNT - 1}) k
         cross join lateral (select
             $3::date - (g % 28)::int - (${READINGS_PER_ACCOUNT - 1} - k) * ${READING_GAP_DAYS} as d,
             (case when g % 1000 = 500 then 3000 + g % 200
                   when g % 20 = 0 then 150 + g % 300
                   else 12 + g % 20 end + (g * 7 + k * 13) % 11)::numeric as c,
             case when k = ${READINGS_PER_ACCOUNT - 1} and g % 50 = 7 then 'estimated' else 'actual' end as kind,
             case when k = ${READINGS_PER_ACCOUNT - 1} and g % 500 = 3 then 'review' else 'accepted' end as status) x
         window w as (partition by g order by k)`,
        [lo, hi, yesterday],
      );
      // The first five readings were billed before: bills with the year's block usage adding up.
      await client.query(
        `insert into bill (account_id, bill_id, bill_no, meter_id, reading_id, usage_type_code, period,
                           period_from, period_to, start_index, end_index, consumption_m3, payable_m3, amount_fen,
                           block_year, block_used_before_m3, block_used_after_m3, due_on, created_at)
         select r.account_id, r.reading_id, 'H-' || r.reading_id, r.meter_id, r.reading_id, sp.usage_type_code,
                r.period, day - ${READING_GAP_DAYS - 1}, day, r.previous_index, r.index_value, r.consumption_m3,
                r.consumption_m3, round(r.consumption_m3 * 410), extract(year from day)::int,
                sum(r.consumption_m3) over w - r.consumption_m3, sum(r.consumption_m3) over w, day + 30, r.read_at
         from reading r
         join service_point sp on sp.account_id = r.account_id and sp.service_point_id = 1
         cross join lateral (select (r.read_at at time zone 'Asia/Shanghai')::date as day) d
         where r.account_id between $1 and $2 and r.reading_id % 8 < ${READINGS_PER_ACCOUNT - 1}
         window w as (partition by r.account_id, extract(year from day) order by r.reading_id)`,
        [lo, hi],
      );
      await client.query('commit');
      if (hi % 500_000 === 0 || hi === accounts)
        log(
          `generated ${hi.toLocaleString('en')} accounts (${Math.round(hi / ((Date.now() - started) / 1000))}/s)`,
        );
    }
    log(`rows in ${((Date.now() - started) / 1000).toFixed(1)} s; rebuilding indexes and foreign keys…`);
    await restore(client, aside);
    for (const [table, column] of [
      ['reading', 'reading_id'],
      ['bill', 'bill_id'],
      ['contact', 'contact_id'],
      ['address', 'address_id'],
      ['service_point', 'service_point_id'],
      ['meter', 'meter_id'],
    ] as const)
      await client.query(
        `select setval(pg_get_serial_sequence('${table}', '${column}'), (select coalesce(max(${column}), 0) + 1 from ${table}))`,
      );
    await client.query(`select setval('account_id_seq', ${accounts})`);
    await client.query(`vacuum (analyze) ${FILLED.join(', ')}, tariff, tariff_version`);
  } finally {
    client.release();
  }
  return (Date.now() - started) / 1000;
}

/** Removes what bill runs wrote, so the next run starts from the generated state. */
async function reset(pool: pg.Pool): Promise<void> {
  await pool.query(
    `delete from bill_line l using bill b where b.account_id = l.account_id and b.bill_id = l.bill_id
       and b.run_id is not null`,
  );
  await pool.query('delete from bill where run_id is not null');
  await pool.query("delete from outbox_message where template = 'bill_notice'");
  await pool.query('delete from bill_run');
  await pool.query('vacuum (analyze) bill, bill_line, outbox_message, bill_run, bill_run_exception');
}

async function exportTo(pool: pg.Pool, query: string, file: string): Promise<void> {
  const client = await pool.connect();
  try {
    await pipeline(client.query(copyStreams.to(`copy (${query}) to stdout`)), createWriteStream(file));
  } finally {
    client.release();
  }
}

async function copyFrom(client: pg.PoolClient, table: string, file: string): Promise<void> {
  await pipeline(createReadStream(file), client.query(copyStreams.from(`copy ${table} from stdin`)));
}

/** A plain COPY of the run's bills and lines into empty tables with the same indexes. */
async function copyBaseline(pool: pg.Pool, runId: number) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meterline-bench-billrun-'));
  try {
    const bills = path.join(dir, 'bill.copy');
    const lines = path.join(dir, 'bill_line.copy');
    await exportTo(pool, `select * from bill where run_id = ${runId}`, bills);
    await exportTo(
      pool,
      `select l.* from bill_line l join bill b on b.account_id = l.account_id and b.bill_id = l.bill_id
       where b.run_id = ${runId}`,
      lines,
    );
    const sizeMb = ((await stat(bills)).size + (await stat(lines)).size) / 1024 / 1024;
    await pool.query('drop table if exists copy_bill_line, copy_bill');
    await pool.query('create table copy_bill (like bill including defaults including indexes)');
    await pool.query('create table copy_bill_line (like bill_line including defaults including indexes)');
    await pool.query('checkpoint');
    const client = await pool.connect();
    const started = Date.now();
    try {
      await client.query('begin');
      await copyFrom(client, 'copy_bill', bills);
      await copyFrom(client, 'copy_bill_line', lines);
      await client.query('commit');
    } finally {
      client.release();
    }
    const seconds = (Date.now() - started) / 1000;
    await pool.query('drop table copy_bill_line, copy_bill');
    return { seconds, sizeMb };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs one bill run over everything up to `upTo` in a child process started as the server and the
 * CLI run (Node with tsx registered in the process: bin/meterline.mjs), not under the tsx command
 * this benchmark runs under, which makes the same code about twice as slow (measured: calculateBill
 * 35 µs a bill in-process, 75 µs under the tsx command). The child reports its figures as JSON.
 */
async function billRun(url: string, upTo: string, chunkAccounts: number): Promise<RunResult> {
  const child = spawn(
    process.execPath,
    [...SERVER_NODE_FLAGS, '--import', 'tsx', RUN_SCRIPT, url, upTo, String(chunkAccounts)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
    for (const line of d.split('\n')) if (line.startsWith('[')) process.stdout.write(`${line}\n`);
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{')) throw new Error(`the bill run process ended with ${code}`);
  return JSON.parse(last) as RunResult;
}

async function main(): Promise<void> {
  const opts = benchOptions({
    size: { type: 'string' },
    chunk: { type: 'string' },
    reseed: { type: 'boolean' },
    again: { type: 'boolean' },
    'keep-bills': { type: 'boolean' },
  });
  const accounts = count(opts.size, 1_000_000, 'size');
  const chunkAccounts = count(opts.chunk, BILL_RUN_CHUNK_ACCOUNTS, 'chunk');
  if (accounts < 1000) throw new Error('--size must be at least 1000');
  const yesterday = addDays(todayInChina(), -1);
  const server = await openBenchServer(log);
  try {
    let database: BenchDatabase | null = (await server.exists(DATABASE))
      ? await prepareDatabase(server.urlOf(DATABASE))
      : null;
    let generateSeconds: number | null = null;
    const have = database
      ? Number((await database.pool.query('select count(*) as n from customer')).rows[0].n)
      : 0;
    const generatedFor = database
      ? (
          await database.pool.query<{ day: string | null }>(
            `select max((read_at at time zone 'Asia/Shanghai')::date)::text as day from reading`,
          )
        ).rows[0]?.day
      : null;
    if (!database || opts.reseed || have !== accounts || generatedFor !== yesterday) {
      await database?.close();
      log(
        `creating ${DATABASE} on ${server.where} with ${accounts.toLocaleString('en')} accounts (it had ${have.toLocaleString('en')})`,
      );
      await server.recreate(DATABASE);
      database = await prepareDatabase(server.urlOf(DATABASE));
      generateSeconds = await generate(database, accounts, yesterday);
      log(`generated in ${generateSeconds.toFixed(1)} s`);
    } else {
      log(`reusing ${DATABASE} on ${server.where}: ${have.toLocaleString('en')} accounts`);
      await reset(database.pool);
    }
    const busyBefore = await cpuBusyPercent();
    const counts = (
      await database.pool.query<{ readings: string; bills: string; billable: string }>(
        `select (select count(*) from reading) as readings, (select count(*) from bill) as bills,
                (select count(*) from reading r where r.status = 'accepted' and not exists
                   (select 1 from bill b where b.account_id = r.account_id and b.reading_id = r.reading_id)) as billable`,
      )
    ).rows[0]!;
    const billable = Number(counts.billable);
    log(
      `${Number(counts.readings).toLocaleString('en')} readings, ${Number(counts.bills).toLocaleString('en')} earlier bills, ${billable.toLocaleString('en')} readings to bill; machine ${busyBefore ?? '?'}% busy before the run`,
    );

    log(
      `bill run over every office up to ${yesterday} (chunks of ${chunkAccounts.toLocaleString('en')} accounts)…`,
    );
    const first = await billRun(database.url, yesterday, chunkAccounts);
    const run = first.run;
    if (run.status !== 'done') throw new Error(`the run ended ${run.status}: ${run.error}`);
    log(
      `run ${run.run_id}: ${run.billed.toLocaleString('en')} bills, ${run.exceptions.toLocaleString('en')} exceptions, ${run.sms_queued.toLocaleString('en')} SMS in ${first.seconds.toFixed(1)} s (${Math.round(run.billed / first.seconds)} bills/s), peak RSS ${first.peakRssMb} MB`,
    );
    // Every billable reading got exactly one bill, or is an exception.
    const check = (
      await database.pool.query<{ bills: string; lines: string; dupes: string; left: string }>(
        `select (select count(*) from bill where run_id = $1) as bills,
                (select count(*) from bill_line l join bill b on b.account_id = l.account_id and b.bill_id = l.bill_id
                  where b.run_id = $1) as lines,
                (select count(*) from (select 1 from bill where reading_id is not null group by account_id, reading_id
                  having count(*) > 1) d) as dupes,
                (select count(*) from reading r where r.status = 'accepted' and not exists
                   (select 1 from bill b where b.account_id = r.account_id and b.reading_id = r.reading_id)) as left`,
        [run.run_id],
      )
    ).rows[0]!;
    if (
      Number(check.bills) !== run.billed ||
      Number(check.dupes) !== 0 ||
      run.billed + run.exceptions !== billable
    )
      throw new Error(
        `bills do not add up: ${JSON.stringify({ check, billed: run.billed, exceptions: run.exceptions, billable })}`,
      );
    if (Number(check.left) !== run.exceptions)
      throw new Error(`${check.left} readings left unbilled, ${run.exceptions} exceptions`);
    log(
      `checked: ${Number(check.bills).toLocaleString('en')} bills and ${Number(check.lines).toLocaleString('en')} lines, no duplicates, nothing left but the exceptions`,
    );

    let again: { seconds: number; billed: number } | null = null;
    if (opts.again) {
      const second = await billRun(database.url, yesterday, chunkAccounts);
      again = { seconds: round1(second.seconds), billed: second.run.billed };
      log(`the same run again: ${second.run.billed} bills in ${second.seconds.toFixed(1)} s`);
    }

    log('baseline: COPY of the same bill and bill_line rows into empty tables with the same indexes…');
    const copy = await copyBaseline(database.pool, run.run_id);
    log(`COPY of ${copy.sizeMb.toFixed(0)} MB in ${copy.seconds.toFixed(1)} s`);
    const exceptionsByCode = Object.fromEntries(
      (
        await database.pool.query<{ code: string; n: number }>(
          'select code, count(*)::int as n from bill_run_exception where run_id = $1 group by code order by code',
          [run.run_id],
        )
      ).rows.map((r) => [r.code, r.n]),
    );
    if (!opts['keep-bills']) await reset(database.pool);
    const figures = {
      bench: 'bill-run',
      accounts,
      where: server.where,
      seconds: round1(first.seconds),
      bills: run.billed,
      bills_per_s: Math.round(run.billed / first.seconds),
      lines: Number(check.lines),
      sms: run.sms_queued,
      exceptions: run.exceptions,
      exceptions_by_code: exceptionsByCode,
      amount_yuan: Math.round(Number(run.amount_fen) / 100),
      copy_seconds: round1(copy.seconds),
      copy_mb: Math.round(copy.sizeMb),
      ratio_to_copy: round2(first.seconds / copy.seconds),
      // The bill run's process (the benchmark's own, which only generates and checks, apart).
      peak_rss_mb: first.peakRssMb,
      bench_peak_rss_mb: peakRssMb(),
      chunk_accounts: chunkAccounts,
      cpu: first.cpu,
      timings_s: first.timings,
      machine_busy_before_pct: busyBefore,
      targets: {
        seconds: TARGET_SECONDS,
        ratio_to_copy: TARGET_RATIO_TO_COPY,
        peak_rss_mb: TARGET_PEAK_RSS_MB,
        met:
          first.seconds <= TARGET_SECONDS &&
          first.seconds / copy.seconds <= TARGET_RATIO_TO_COPY &&
          first.peakRssMb <= TARGET_PEAK_RSS_MB,
      },
      ...(again ? { again } : {}),
      ...(generateSeconds !== null ? { generate_seconds: round1(generateSeconds) } : {}),
      machine: machine(),
    };
    await database.close();
    console.log(JSON.stringify(figures));
  } finally {
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
