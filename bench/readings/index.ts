/**
 * bench/readings — how fast readings are validated and stored: smart-meter files through
 * POST /api/readings/bulk, and the handheld's batches through POST /api/field/readings.
 *
 *   npm run bench -- readings [--size 1000000] [--customers N] [--api 50000] [--batch 200]
 *                             [--clients 6] [--parallel 2] [--history-months 14] [--reseed]
 *                             [--keep-readings]
 *
 * Uses the database meterline_bench_readings (meterline_bench_readings_h60 for --history-months 60):
 * reused when it holds the customers asked for (with their books and reading history), else
 * recreated and seeded (customers, books, --history-months of history — the seed figures are
 * reported too). Starts the real server in a child process
 * (bench/search/server.ts: startServer from server.ts), signs in, then:
 *
 *   api   --clients handhelds (one per demo reader, over their own offices' meters) upload --api
 *         readings in batches of --batch, every reading checked against its meter's history
 *         (checkReading, estimateConsumption), conflicts and duplicates looked for, stored with
 *         its follow-ups and audited; those readings are then deleted again;
 *   bulk  one CSV file per office, --size readings in all (one per meter of this month, about 1% far
 *         above the meter's history, 0.5% no access, 0.2% unknown meters), uploaded as the analyst,
 *         --parallel files at a time: every row checked the same way, keyed by meter and read time;
 *   again the first office's file sent a second time: every row recognised, nothing stored;
 *   views the analyst's statistics (12 months, all offices and one), day monitor, review queue and
 *         stuck meters over the month just loaded, timed.
 * CPU time of the server and of its PostgreSQL backends is reported per reading (steadier than
 * readings per second on a shared machine), with the share of the machine other processes took.
 *
 * The readings of this month are deleted at the start (and at the end unless --keep-readings), so
 * runs can be repeated on the same database. Last line: one JSON object.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { todayInChina } from '@meterline/domain';
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
import { peakRssMb, summarise } from '../lib/stats.ts';

const BASE_DATABASE = 'meterline_bench_readings';
const TARGET_READS_PER_S = 100_000;
const log = (msg: string) => console.log(`[bench:readings] ${msg}`);
const round1 = (x: number) => Math.round(x * 10) / 10;

interface MeterForBench {
  account_id: number;
  meter_id: number;
  meter_no: string;
  office_id: number;
  office_code: string;
  register: string;
  daily: string;
}

/** Deletes this month's readings (and the follow-ups and audit entries they made): a clean slate. */
async function clearMonth(database: BenchDatabase, month: string) {
  const t0 = Date.now();
  await database.pool.query(
    `delete from followup f using reading r
     where r.account_id = f.account_id and r.reading_id = f.reading_id and r.period = $1`,
    [month],
  );
  const deleted = await database.pool.query('delete from reading where period = $1', [month]);
  await database.pool.query(
    `delete from audit_log where entity_type in ('reading', 'reading_upload', 'reading_bulk')`,
  );
  await database.pool.query('delete from route_download');
  await database.pool.query('vacuum analyze reading, followup');
  if (deleted.rowCount)
    log(
      `cleared ${deleted.rowCount.toLocaleString('en')} readings of ${month} in ${round1((Date.now() - t0) / 1000)} s`,
    );
}

/** Each meter to read this month with where its register stands and its usual daily use. */
async function metersToRead(database: BenchDatabase, month: string): Promise<MeterForBench[]> {
  const { rows } = await database.pool.query<MeterForBench>(
    `select m.account_id, m.meter_id, m.meter_no, c.office_id, o.code as office_code,
            coalesce(l.register, m.initial_index)::text as register, coalesce(l.daily, 0.5)::text as daily
     from meter m
     join customer c on c.account_id = m.account_id
     join office o on o.office_id = c.office_id
     left join lateral (
       select case when r.kind = 'actual' then r.index_value else r.previous_index + r.consumption_m3 end as register,
              r.consumption_m3 / greatest(1, extract(epoch from r.read_at - (
                select p.read_at from reading p where p.account_id = r.account_id and p.meter_id = r.meter_id
                  and p.status = 'accepted' and p.read_at < r.read_at order by p.read_at desc limit 1)) / 86400)
                as daily
       from reading r where r.account_id = m.account_id and r.meter_id = m.meter_id and r.status = 'accepted'
       order by r.read_at desc limit 1) l on true
     where m.state = 'in_service' and c.state = 'active' and c.connected_on < $1::date
     order by c.office_id, m.book_id nulls last, m.route_seq, m.account_id`,
    [`${month}-01`],
  );
  return rows;
}

/** The index a reader would find today: the register plus about a month's use (whole m³). */
function indexFor(m: MeterForBench, r: () => number, factor = 1): string {
  const volume = Math.max(1, Math.round(Number(m.daily) * 30 * factor * (0.8 + r() * 0.4)));
  return String((Math.floor(Number(m.register)) + volume) % 100_000);
}

async function copyBaseline(
  database: BenchDatabase,
  meters: MeterForBench[],
  month: string,
): Promise<number> {
  const client = await database.pool.connect();
  try {
    await client.query('begin');
    await client.query('create temp table reading_copy (like reading including all) on commit drop');
    const at = new Date().toISOString();
    const lines = meters.map(
      (m, i) =>
        `${m.account_id}\t${i + 1}\t${m.meter_id}\t${month}\t${at}\t${m.register}\t${m.register}\t0\tactual\tbulk\tbulk:${m.meter_no}\taccepted\n`,
    );
    const t0 = performance.now();
    const stream = client.query(
      copyStreams.from(
        'copy reading_copy (account_id, reading_id, meter_id, period, read_at, previous_index, index_value, consumption_m3, kind, source, client_id, status) from stdin',
      ),
    );
    await pipeline(Readable.from(lines), stream);
    const seconds = (performance.now() - t0) / 1000;
    await client.query('rollback');
    return seconds;
  } finally {
    client.release();
  }
}

async function main(): Promise<void> {
  const opts = benchOptions({
    size: { type: 'string' },
    customers: { type: 'string' },
    api: { type: 'string' },
    batch: { type: 'string' },
    clients: { type: 'string' },
    parallel: { type: 'string' },
    reseed: { type: 'boolean' },
    'keep-readings': { type: 'boolean' },
    'history-months': { type: 'string' },
  });
  const historyMonths = count(opts['history-months'], HISTORY_MONTHS, 'history-months');
  // Another history is another database (the default one is kept for the usual runs).
  const DATABASE = historyMonths === HISTORY_MONTHS ? BASE_DATABASE : `${BASE_DATABASE}_h${historyMonths}`;
  const size = count(opts.size, 1_000_000, 'size');
  // About 97.5% of demo customers are to be read with a meter (the rest: cable TV, vacant, sealed…).
  const customers = count(opts.customers, Math.ceil(size / 0.86), 'customers');
  const apiReadings = count(opts.api, Math.min(50_000, size), 'api');
  const batch = count(opts.batch, 200, 'batch');
  const clients = count(opts.clients, 6, 'clients');
  const parallel = Math.max(1, count(opts.parallel, 2, 'parallel'));
  const month = todayInChina().slice(0, 7);

  const server = await openBenchServer(log);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'meterline-bench-readings-'));
  let child: ServerProcess | null = null;
  try {
    if (opts.reseed || !(await server.exists(DATABASE))) await server.recreate(DATABASE);
    const database = await prepareDatabase(server.urlOf(DATABASE));
    try {
      const seeded = await seedIfNeeded(database, log, customers, opts.reseed ?? false, historyMonths);
      await clearMonth(database, month);
      const meters = await metersToRead(database, month);
      log(`${meters.length.toLocaleString('en')} meters to read this month`);
      if (meters.length < size) {
        throw new Error(
          `only ${meters.length} meters to read: raise --customers (now ${customers}) for --size ${size}`,
        );
      }
      child = await startServerProcess(server.urlOf(DATABASE), 'readings');
      const base = child.baseUrl;

      // ------------------------------------------------------------ api: the handhelds' batches
      const readers = ['reader', 'reader2', 'reader3', 'reader4', 'reader5', 'reader6'].slice(0, clients);
      const readerOffices = (
        await database.pool.query<{ username: string; codes: string[] }>(
          `select s.username, array_agg(o.code) as codes from staff s
           join staff_office so on so.staff_id = s.staff_id join office o on o.office_id = so.office_id
           where s.username = any($1) group by s.username`,
          [readers],
        )
      ).rows;
      const r = rng(7);
      const shares = new Map<string, MeterForBench[]>(readers.map((u) => [u, []]));
      const perClient = Math.ceil(apiReadings / readers.length);
      for (const user of readers) {
        const codes = readerOffices.find((x) => x.username === user)?.codes ?? [];
        const sharing = readers.filter((u) =>
          (readerOffices.find((x) => x.username === u)?.codes ?? []).some((c) => codes.includes(c)),
        );
        const mine = meters.filter(
          (m, i) => codes.includes(m.office_code) && i % sharing.length === sharing.indexOf(user),
        );
        shares.set(user, mine.slice(0, perClient));
      }
      const cookies = new Map(
        await Promise.all(readers.map(async (u) => [u, await login(base, u)] as const)),
      );
      const latencies: number[] = [];
      const outcomes: Record<string, number> = {};
      let apiErrors = 0;
      const readAt = new Date(Date.now() - 3600_000).toISOString();
      const busyBeforeApi = await cpuBusyPercent();
      const apiCpu = await cpuMeter(database, child.child.pid!);
      const t0 = performance.now();
      await Promise.all(
        readers.map(async (user) => {
          const list = shares.get(user)!;
          for (let i = 0; i < list.length; i += batch) {
            const readings = list.slice(i, i + batch).map((m) => ({
              clientId: `bench-api:${m.account_id}:${m.meter_id}`,
              accountId: m.account_id,
              meterId: m.meter_id,
              index: indexFor(m, r),
              readAt,
              anomalyCodes: [],
              note: '',
              latitude: 34.75,
              longitude: 113.62,
              accuracyM: 10,
            }));
            const t = performance.now();
            const res = await fetch(`${base}/api/field/readings`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', cookie: cookies.get(user)! },
              body: JSON.stringify({ deviceId: `BENCH-${user}`, readings }),
            });
            latencies.push(performance.now() - t);
            if (res.status !== 200) {
              apiErrors++;
              log(`api: ${user} got ${res.status} ${(await res.text()).slice(0, 200)}`);
              continue;
            }
            const answer = (await res.json()) as { results: { outcome: string }[] };
            for (const x of answer.results) outcomes[x.outcome] = (outcomes[x.outcome] ?? 0) + 1;
          }
        }),
      );
      const apiSeconds = (performance.now() - t0) / 1000;
      const apiDone = Object.values(outcomes).reduce((s, x) => s + x, 0);
      const lat = summarise(latencies);
      const api = {
        readings: apiDone,
        batch,
        clients: readers.length,
        seconds: round1(apiSeconds),
        reads_per_s: Math.round(apiDone / apiSeconds),
        requests: latencies.length,
        errors: apiErrors,
        outcomes,
        batch_p50_ms: lat.p50_ms,
        batch_p99_ms: lat.p99_ms,
        cpu_busy_before_pct: busyBeforeApi,
        cpu: await apiCpu(apiDone),
      };
      log(
        `api: ${apiDone.toLocaleString('en')} readings in ${api.seconds} s = ${api.reads_per_s}/s (${readers.length} handhelds, batches of ${batch}, p50 ${lat.p50_ms} ms, p99 ${lat.p99_ms} ms per batch) ${JSON.stringify(outcomes)}`,
      );
      await clearMonth(database, month);

      // ------------------------------------------------------------ bulk: one file per office
      const offices = [...new Set(meters.map((m) => m.office_code))];
      const files: { officeId: number; code: string; file: string; rows: number }[] = [];
      let left = size;
      for (const [i, code] of offices.entries()) {
        const own = meters.filter((m) => m.office_code === code);
        const take =
          i === offices.length - 1 ? left : Math.min(left, Math.round((size * own.length) / meters.length));
        left -= take;
        const lines = ['meter_no,read_at,index,anomaly_codes'];
        const at = `${todayInChina()}T09:00:00+08:00`;
        for (const m of own.slice(0, take)) {
          const x = r();
          if (x < 0.002) lines.push(`X${m.meter_no},${at},${indexFor(m, r)},`);
          else if (x < 0.007) lines.push(`${m.meter_no},${at},,no_access`);
          else if (x < 0.017) lines.push(`${m.meter_no},${at},${indexFor(m, r, 8)},`);
          else lines.push(`${m.meter_no},${at},${indexFor(m, r)},`);
        }
        const file = path.join(tmp, `office-${code}.csv`);
        await writeFile(file, `${lines.join('\n')}\n`);
        files.push({ officeId: own[0]!.office_id, code, file, rows: take });
      }
      const analyst = await login(base, 'analyst');
      const send = async (f: (typeof files)[number]) => {
        const form = new FormData();
        form.append('file', new Blob([await readFile(f.file)], { type: 'text/csv' }), path.basename(f.file));
        const res = await fetch(`${base}/api/readings/bulk?officeId=${f.officeId}`, {
          method: 'POST',
          headers: { cookie: analyst },
          body: form,
        });
        if (res.status !== 200)
          throw new Error(`bulk ${f.code}: ${res.status} ${(await res.text()).slice(0, 300)}`);
        return (await res.json()) as {
          rows: number;
          accepted: number;
          review: number;
          conflict: number;
          duplicate: number;
          rejected: number;
          seconds: number;
          stages: {
            parseSeconds: number;
            loadSeconds: number;
            checkSeconds: number;
            writeSeconds: number;
            ingestSeconds: number;
          };
        };
      };
      const totals = {
        rows: 0,
        accepted: 0,
        review: 0,
        conflict: 0,
        duplicate: 0,
        rejected: 0,
        parse: 0,
        load: 0,
        check: 0,
        write: 0,
        ingest: 0,
      };
      const busyBeforeBulk = await cpuBusyPercent();
      const bulkCpu = await cpuMeter(database, child.child.pid!);
      const b0 = performance.now();
      // --parallel files at a time (offices send theirs independently; each office's file in turn).
      const queue = [...files];
      const worker = async () => {
        for (let f = queue.shift(); f; f = queue.shift()) await sendOne(f);
      };
      const sendOne = async (f: (typeof files)[number]) => {
        const t = performance.now();
        const report = await send(f);
        for (const k of ['rows', 'accepted', 'review', 'conflict', 'duplicate', 'rejected'] as const)
          totals[k] += report[k];
        totals.parse += report.stages.parseSeconds;
        totals.ingest += report.stages.ingestSeconds;
        totals.load += report.stages.loadSeconds;
        totals.check += report.stages.checkSeconds;
        totals.write += report.stages.writeSeconds;
        const s = (performance.now() - t) / 1000;
        log(
          `bulk ${f.code}: ${report.rows.toLocaleString('en')} rows in ${round1(s)} s = ${Math.round(report.rows / s)}/s (accepted ${report.accepted}, review ${report.review}, rejected ${report.rejected})`,
        );
      };
      await Promise.all(Array.from({ length: Math.min(parallel, files.length) }, worker));
      const bulkSeconds = (performance.now() - b0) / 1000;
      const bulkCpuFigures = await bulkCpu(totals.rows);
      const a0 = performance.now();
      const again = await send(files[0]!);
      const againSeconds = (performance.now() - a0) / 1000;
      log(
        `bulk CPU: server ${bulkCpuFigures.server_cpu_us_per_reading} µs and PostgreSQL ${bulkCpuFigures.postgres_cpu_us_per_reading} µs per reading = ${bulkCpuFigures.reads_per_cpu_s} readings per CPU-second; other processes took ${bulkCpuFigures.others_cpu_pct}% of the machine (busy ${busyBeforeBulk}% before)`,
      );
      log(
        `bulk: ${totals.rows.toLocaleString('en')} rows in ${round1(bulkSeconds)} s = ${Math.round(totals.rows / bulkSeconds)}/s; the first file again: ${again.duplicate} duplicates, ${again.accepted} stored, ${round1(againSeconds)} s`,
      );
      const readsPerS = Math.round(totals.rows / bulkSeconds);
      // The floor under any ingest here: COPY the same number of finished rows, unchecked, into a
      // table like reading (same columns, indexes and constraints, no foreign keys), one stream.
      const copySeconds = await copyBaseline(database, meters.slice(0, totals.rows), month);
      log(
        `baseline: COPY of ${totals.rows.toLocaleString('en')} finished rows into a copy of reading: ${round1(copySeconds)} s = ${Math.round(totals.rows / copySeconds)}/s`,
      );
      const stored = Number(
        (
          await database.pool.query(
            `select count(*) as n from reading where period = $1 and source = 'bulk'`,
            [month],
          )
        ).rows[0].n,
      );
      if (stored !== totals.accepted + totals.review + totals.conflict)
        throw new Error(
          `stored ${stored} readings, the reports say ${totals.accepted + totals.review + totals.conflict}`,
        );
      // The analyst's views over a month of a million readings.
      const timed = (url: string) => timedGet(base, analyst, url);
      const views = {
        stats_ms: await timed(`/api/readings/stats?month=${month}`),
        stats_office_ms: await timed(`/api/readings/stats?month=${month}&officeId=${files[0]!.officeId}`),
        day_monitor_ms: await timed(`/api/readings/day-monitor?date=${todayInChina()}`),
        review_queue_ms: await timed('/api/readings/review?pageSize=50'),
        stuck_meters_ms: await timed('/api/readings/stuck-meters?pageSize=50'),
      };
      log(`views: ${JSON.stringify(views)}`);
      if (!opts['keep-readings']) await clearMonth(database, month);
      const figures = {
        bench: 'readings',
        readings: totals.rows,
        customers,
        meters_to_read: meters.length,
        where: server.where,
        machine: machine(),
        target_reads_per_s: TARGET_READS_PER_S,
        bulk: {
          seconds: round1(bulkSeconds),
          reads_per_s: readsPerS,
          ratio_to_target: Math.round((readsPerS / TARGET_READS_PER_S) * 100) / 100,
          copy_seconds: round1(copySeconds),
          copy_reads_per_s: Math.round(totals.rows / copySeconds),
          ratio_to_copy: Math.round((copySeconds / bulkSeconds) * 100) / 100,
          files: files.length,
          parallel,
          accepted: totals.accepted,
          review: totals.review,
          conflict: totals.conflict,
          duplicate: totals.duplicate,
          rejected: totals.rejected,
          server_parse_seconds: round1(totals.parse),
          server_ingest_seconds: round1(totals.ingest),
          server_load_seconds: round1(totals.load),
          server_check_seconds: round1(totals.check),
          server_write_seconds: round1(totals.write),
          cpu_busy_before_pct: busyBeforeBulk,
          cpu: bulkCpuFigures,
        },
        bulk_again: {
          rows: again.rows,
          seconds: round1(againSeconds),
          reads_per_s: Math.round(again.rows / againSeconds),
          duplicate: again.duplicate,
          stored: again.accepted + again.review + again.conflict,
        },
        api,
        views,
        seed: seeded,
        peak_rss_mb: peakRssMb(),
      };
      console.log(JSON.stringify(figures));
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
