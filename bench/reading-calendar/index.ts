/**
 * bench/reading-calendar — annual calendar generation for 150,000 meters.
 *
 *   npm run bench -- reading-calendar [--size 150000] [--meters-per-reader 1330] [--year 2026]
 *                                     [--seed 1] [--reseed] [--drop]
 *
 * Uses the database meterline_bench_calendar, reused when it holds about --size meters in books
 * (otherwise, or with --reseed, recreated): reference data, the calendar, the demo organisation,
 * seedCustomers (about --size / 0.98 customers: cable-TV customers have no meter), then readers
 * for every office (one per --meters-per-reader meters: the water group of DOMAIN.md had 113 field
 * staff for 150,000 meters), then seedDemoBooks (books, routes, reader assignments). Then it times
 * the reading plan of --year for every office as the API's POST /api/reading-plan/generate does
 * (generateOfficePlan in a transaction), from scratch and then once more (nothing to change), and
 * planReadingYear alone on the same inputs. The database is kept for the next run unless --drop.
 * Last line: one JSON object.
 */
import { type AreaType, type PlanBook, planReadingYear, todayInChina, type Zone } from '@meterline/domain';
import { ensureCalendar } from '@meterline/server/calendar/ensure';
import { loadWorkingCalendar } from '@meterline/server/calendar/load';
import { generateOfficePlan, type PlanSummary } from '@meterline/server/metering/plan';
import { meterCountsByBook, workloadConfig } from '@meterline/server/metering/repository';
import { seedDemoBooks } from '@meterline/server/seed/books';
import { seedCustomers } from '@meterline/server/seed/customers';
import { benchOptions, count } from '../lib/args.ts';
import { type BenchDatabase, openBenchServer, prepareDatabase } from '../lib/database.ts';
import { peakRssMb } from '../lib/stats.ts';

const DATABASE = 'meterline_bench_calendar';
/** Share of seeded customers with a meter (cable-TV accounts have none). */
const METERED_SHARE = 0.98;
const round2 = (x: number) => Math.round(x * 100) / 100;
const log = (msg: string) => console.log(`[bench:reading-calendar] ${msg}`);

async function bookedMeters(database: BenchDatabase): Promise<number> {
  const { rows } = await database.pool.query<{ n: string }>(
    `select count(*) as n from meter where book_id is not null`,
  );
  return Number(rows[0]!.n);
}

/** Readers for every office, one per `metersPerReader` of its meters (role reader, no login). */
async function createReaders(database: BenchDatabase, metersPerReader: number): Promise<number> {
  const { rows } = await database.pool.query<{ office_id: number; code: string; meters: string }>(
    `select o.office_id, o.code, count(m.meter_id) as meters
     from office o left join customer c on c.office_id = o.office_id
     left join meter m on m.account_id = c.account_id and m.state = 'in_service'
     group by o.office_id, o.code order by o.code`,
  );
  let created = 0;
  for (const office of rows) {
    const wanted = Math.ceil(Number(office.meters) / metersPerReader);
    const { rows: have } = await database.pool.query<{ n: string }>(
      `select count(*) as n from staff s join staff_office so on so.staff_id = s.staff_id
       where s.role_code = 'reader' and so.office_id = $1`,
      [office.office_id],
    );
    for (let k = Number(have[0]!.n); k < wanted; k++) {
      const username = `bench_reader_${office.code}_${String(k + 1).padStart(3, '0')}`;
      const staff = await database.pool.query<{ staff_id: number }>(
        `insert into staff (username, full_name, role_code, home_office_id, password_hash)
         values ($1, $2, 'reader', $3, 'bench: no login') returning staff_id`,
        [username, `抄表员${office.code}-${k + 1}`, office.office_id],
      );
      await database.pool.query('insert into staff_office (staff_id, office_id) values ($1, $2)', [
        staff.rows[0]!.staff_id,
        office.office_id,
      ]);
      created++;
    }
  }
  return created;
}

async function main(): Promise<void> {
  const opts = benchOptions({
    size: { type: 'string' },
    'meters-per-reader': { type: 'string' },
    year: { type: 'string' },
    seed: { type: 'string' },
    reseed: { type: 'boolean' },
    drop: { type: 'boolean' },
  });
  const meters = count(opts.size, 150_000, 'size');
  const metersPerReader = count(opts['meters-per-reader'], 1330, 'meters-per-reader');
  const year = count(opts.year, Number(todayInChina().slice(0, 4)), 'year');
  const seed = count(opts.seed, 1, 'seed');
  if (meters < 100 || metersPerReader < 1) throw new Error('--size ≥ 100 and --meters-per-reader ≥ 1');

  const server = await openBenchServer(log);
  let database: BenchDatabase | null = null;
  try {
    database = (await server.exists(DATABASE)) ? await prepareDatabase(server.urlOf(DATABASE)) : null;
    const have = database ? await bookedMeters(database) : 0;
    let seeded: Record<string, number> | null = null;
    // "About --size": the seed makes whole customers, some without a meter.
    if (!database || Math.abs(have - meters) > meters * 0.03 || opts.reseed) {
      await database?.close();
      log(
        `creating ${DATABASE} on ${server.where} for ${meters.toLocaleString('en')} meters (it had ${have})`,
      );
      await server.recreate(DATABASE);
      database = await prepareDatabase(server.urlOf(DATABASE));
      await ensureCalendar(database.db);
      const customers = Math.ceil(meters / METERED_SHARE);
      const c = await seedCustomers(database.pool, { customers, seed, log });
      const readers = await createReaders(database, metersPerReader);
      log(`${readers} readers created`);
      const t0 = Date.now();
      const b = await seedDemoBooks(database.pool, { log });
      seeded = {
        customers,
        customers_seconds: round2(c.seconds),
        readers_created: readers,
        books_seconds: round2((Date.now() - t0) / 1000),
        books: b.books,
      };
    } else {
      log(`reusing ${DATABASE} on ${server.where}: ${have.toLocaleString('en')} meters in books`);
      await ensureCalendar(database.db);
    }
    const db = database.db;

    const offices = await db.selectFrom('office').select(['office_id', 'code']).orderBy('code').execute();
    const inventory = await database.pool.query<{ books: string; meters: string; readers: string }>(
      `select (select count(*) from book where active) as books,
              (select count(*) from meter where book_id is not null and state = 'in_service') as meters,
              (select count(distinct reader_id) from book where active) as readers`,
    );
    const books = Number(inventory.rows[0]!.books);
    const metersInBooks = Number(inventory.rows[0]!.meters);
    const readers = Number(inventory.rows[0]!.readers);
    log(
      `${metersInBooks.toLocaleString('en')} meters in ${books.toLocaleString('en')} books, ${readers} readers, ${offices.length} offices; planning ${year}`,
    );

    // From scratch: the year's plan removed first (a database that has no readings yet).
    await database.pool.query(`delete from reading_plan where period between $1 and $2`, [
      `${year}-01`,
      `${year}-12`,
    ]);
    await database.pool.query('analyze reading_plan');
    const perOffice: Record<string, { seconds: number; book_months: number; unfit: number; books: number }> =
      {};
    const summaries: PlanSummary[] = [];
    const t0 = performance.now();
    for (const office of offices) {
      const t = performance.now();
      // today = 1 January: every month is planned (nothing is "past").
      const summary = await db
        .transaction()
        .execute((trx) => generateOfficePlan(trx, office.office_id, year, { today: `${year}-01-01` }));
      summaries.push(summary);
      perOffice[office.code] = {
        seconds: round2((performance.now() - t) / 1000),
        book_months: summary.planned,
        unfit: summary.unfit.length,
        books: summary.books,
      };
      log(
        `office ${office.code}: ${summary.books} books, ${summary.planned} book-months planned, ${summary.unfit.length} without room, ${perOffice[office.code]!.seconds} s`,
      );
    }
    const seconds = (performance.now() - t0) / 1000;

    // Again: the same plan, nothing to write.
    const t1 = performance.now();
    let rewritten = 0;
    for (const office of offices) {
      const s = await db
        .transaction()
        .execute((trx) => generateOfficePlan(trx, office.office_id, year, { today: `${year}-01-01` }));
      rewritten += s.planned;
    }
    const regenerateSeconds = (performance.now() - t1) / 1000;
    if (rewritten !== 0) throw new Error(`regenerating changed ${rewritten} book-months: not idempotent`);

    // The rule alone (planReadingYear) on the same inputs, per office.
    let pureSeconds = 0;
    let loadSeconds = 0;
    for (const office of offices) {
      const tl = performance.now();
      const rows = await db
        .selectFrom('book')
        .select(['book_id', 'code', 'zone', 'area_type', 'reader_id'])
        .where('office_id', '=', office.office_id)
        .where('active', '=', true)
        .execute();
      const counts = await meterCountsByBook(
        db,
        rows.map((b) => b.book_id),
      );
      const calendar = await loadWorkingCalendar(db, `${year}-01-01`, `${year}-12-31`);
      const config = await workloadConfig(db, office.office_id);
      loadSeconds += (performance.now() - tl) / 1000;
      const input: PlanBook[] = rows.map((b) => ({
        bookId: b.book_id,
        code: b.code,
        zone: b.zone as Zone,
        areaType: b.area_type as AreaType,
        readerId: b.reader_id,
        meters: counts.get(b.book_id) ?? {},
      }));
      const tp = performance.now();
      planReadingYear({ year, calendar, books: input, workload: config });
      pureSeconds += (performance.now() - tp) / 1000;
    }

    const bookMonths = summaries.reduce((s, x) => s + x.planned, 0);
    const unfit = summaries.reduce((s, x) => s + x.unfit.length, 0);
    log(
      `${bookMonths.toLocaleString('en')} book-months planned for ${metersInBooks.toLocaleString('en')} meters in ${round2(seconds)} s (again: ${round2(regenerateSeconds)} s; the rule alone ${round2(pureSeconds)} s, loading its inputs ${round2(loadSeconds)} s); ${unfit} without room`,
    );
    console.log(
      JSON.stringify({
        bench: 'reading-calendar',
        meters: metersInBooks,
        books,
        readers,
        offices: offices.length,
        year,
        where: server.where,
        seconds: round2(seconds),
        book_months: bookMonths,
        book_months_per_s: Math.round(bookMonths / seconds),
        unfit,
        regenerate_seconds: round2(regenerateSeconds),
        rule_seconds: round2(pureSeconds),
        load_seconds: round2(loadSeconds),
        peak_rss_mb: peakRssMb(),
        per_office: perOffice,
        seeded,
      }),
    );
  } finally {
    await database?.close();
    if (opts.drop) await server.drop(DATABASE);
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
