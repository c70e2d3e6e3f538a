import { isReadingMonth, isToRead, todayInChina, type Zone } from '@meterline/domain';
import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Caller } from '../platform/context.ts';
import { loadSettings } from '../platform/settings.ts';
import { addMonths, chinaDayStart, chinaTime, readerOnDay, STATES_TO_READ } from './model.ts';
import { reportingOn } from './registerBilling.ts';
import { type Db, loadTenures, monthReaders } from './repository.ts';
import { officeCondition } from './service.ts';

/**
 * The analyst's views (DOMAIN.md §3, §10): each reader's day, and the reading rate and accuracy.
 * Counted in SQL over the rows; which customers are to be read, and which books are read in a month,
 * come from the domain rules (STATES_TO_READ from isToRead, zonesReadIn from isReadingMonth).
 */

export interface MonitorRow {
  readerId: number;
  readerName: string;
  officeId: number;
  officeName: string;
  books: { bookId: number; code: string }[];
  /**
   * Meters of the reader's books planned that day (customers to read, meters in service), smart
   * meters reporting their register excepted: those are `remote`, billed from their register reads.
   */
  due: number;
  remote: number;
  /** Meters the reader read that day with an index (a meter read twice counts once). */
  read: number;
  /** Meters with only an estimate that day (no access, or a forced visit waiting in review). */
  estimated: number;
  /** Meters with a no-access entry: an anomaly that prevents reading. */
  skipped: number;
  /** Meters with a reading waiting in review or conflict. */
  review: number;
  /** Meters with at least one anomaly code. */
  anomalies: number;
  /** Of the meters read or estimated, those not on the reader's books planned that day. */
  offRoute: number;
  /** Readings uploaded for that day (any outcome but rejected at the door; a meter may have two). */
  uploaded: number;
  firstReadAt: string | null;
  lastReadAt: string | null;
  /** When the last of them reached the server. */
  uploadedAt: string | null;
  downloadedAt: string | null;
  /** The first meter was read after reading.dayStart. */
  startedLate: boolean;
  /** Readings of the day reached the server after reading.uploadBy. */
  uploadedLate: boolean;
  /** Stuck/dead/broken meters of the reader's books escalated and still open (they count against the reader). */
  stuckEscalated: number;
}

export async function dayMonitor(db: Db, caller: Caller, q: { date: string; officeId?: number }) {
  const settings = await loadSettings(db);
  const dayStart = settings['reading.dayStart'];
  const maxAgeDays = settings['register.billingMaxAgeDays'];
  const uploadBy = settings['reading.uploadBy'];
  const from = chinaDayStart(q.date);
  const to = new Date(from.getTime() + 86_400_000);
  const month = q.date.slice(0, 7);
  const noAccess = (
    await db.selectFrom('anomaly_code').select('code').where('prevents_reading', '=', true).execute()
  ).map((a) => a.code);
  const bookScope = officeCondition(caller, sql`b.office_id`, q.officeId);
  const customerScope = officeCondition(caller, sql`c.office_id`, q.officeId);
  // The books planned that day, each under the reader who held it that day (readerOnDay): a book
  // handed over since then stays with the reader who had it.
  const { rows: planned } = await sql<{
    book_id: number;
    office_id: number;
    code: string;
    reader_id: number | null;
  }>`
    select b.book_id, b.office_id, b.code, b.reader_id
    from reading_plan p join book b on b.book_id = p.book_id
    where p.planned_on = ${q.date}::date and ${bookScope}`.execute(db);
  const tenures = await loadTenures(
    db,
    planned.map((p) => p.book_id),
  );
  for (const p of planned) p.reader_id = readerOnDay(tenures.get(p.book_id) ?? [], p.reader_id, q.date);
  const { rows } = await sql<{
    reader_id: number;
    office_id: number;
    reader_name: string;
    office_name: string;
    books: { bookId: number; code: string }[] | null;
    due: number | null;
    remote: number | null;
    read: number | null;
    estimated: number | null;
    skipped: number | null;
    review: number | null;
    anomalies: number | null;
    off_route: number | null;
    uploaded: number | null;
    first_read_at: Date | null;
    last_read_at: Date | null;
    uploaded_at: Date | null;
    downloaded_at: Date | null;
    stuck: number;
  }>`
    with planned as (
      select x.reader_id, x.office_id, x.book_id, x.code
      from unnest(${planned.map((p) => p.book_id)}::bigint[], ${planned.map((p) => p.reader_id)}::bigint[],
                  ${planned.map((p) => p.office_id)}::bigint[], ${planned.map((p) => p.code)}::text[])
           as x(book_id, reader_id, office_id, code)
      where x.reader_id is not null
    ), due as (
      select pl.reader_id, pl.office_id,
             count(m.meter_id)::int - count(m.meter_id) filter (where m.remote)::int as due,
             count(m.meter_id) filter (where m.remote)::int as remote,
             (select jsonb_agg(jsonb_build_object('bookId', x.book_id, 'code', x.code) order by x.code)
                from planned x where x.reader_id = pl.reader_id and x.office_id = pl.office_id) as books
      from planned pl
      -- Each meter once, with whether it reports its register that day (then it is remote).
      left join lateral (
        select m.meter_id, ${reportingOn(sql`${q.date}::date`, maxAgeDays)} as remote
        from meter m
        where m.book_id = pl.book_id and m.state = 'in_service'
          and exists (select 1 from customer c where c.account_id = m.account_id
                        and c.state = any(${[...STATES_TO_READ]}::text[]) and c.connected_on < ${`${month}-01`}::date)
      ) m on true
      group by pl.reader_id, pl.office_id
    ), per_meter as (
      -- One row per reader and meter read that day: a meter read twice (a conflict, a re-read)
      -- counts once; on_route: it is on one of the reader's books planned that day.
      select r.reader_id, c.office_id, r.account_id, r.meter_id,
             bool_or(r.kind = 'actual') as actual,
             bool_or(r.kind = 'estimated') as estimated,
             bool_or(r.anomaly_codes && ${noAccess}::text[]) as skipped,
             bool_or(r.status in ('review', 'conflict')) as review,
             bool_or(cardinality(r.anomaly_codes) > 0) as anomalies,
             count(*)::int as readings,
             bool_or(exists (select 1 from planned pl where pl.book_id = r.book_id and pl.reader_id = r.reader_id)) as on_route,
             min(r.read_at) as first_read_at, max(r.read_at) as last_read_at, max(r.created_at) as uploaded_at
      from reading r join customer c on c.account_id = r.account_id
      where r.reader_id = any(array(select staff_id from staff))
        and r.read_at >= ${from} and r.read_at < ${to} and ${customerScope}
      group by r.reader_id, c.office_id, r.account_id, r.meter_id
    ), done as (
      select reader_id, office_id,
             count(*) filter (where actual)::int as read,
             count(*) filter (where estimated and not actual)::int as estimated,
             count(*) filter (where skipped)::int as skipped,
             count(*) filter (where review)::int as review,
             count(*) filter (where anomalies)::int as anomalies,
             count(*) filter (where not on_route)::int as off_route,
             sum(readings)::int as uploaded,
             min(first_read_at) as first_read_at, max(last_read_at) as last_read_at, max(uploaded_at) as uploaded_at
      from per_meter
      group by reader_id, office_id
    ), pairs as (
      select reader_id, office_id from due union select reader_id, office_id from done
    )
    select p.reader_id, p.office_id, s.full_name as reader_name, o.name as office_name, due.books, due.due, due.remote,
           done.read, done.estimated, done.skipped, done.review, done.anomalies, done.off_route, done.uploaded,
           done.first_read_at, done.last_read_at, done.uploaded_at,
           (select max(d.downloaded_at) from route_download d
              where d.staff_id = p.reader_id and d.work_date = ${q.date}::date) as downloaded_at,
           (select count(*)::int from followup f
              join anomaly_code ac on ac.code = f.anomaly_code and ac.meter_fault
              join meter m on m.account_id = f.account_id and m.meter_id = f.meter_id
              join book b on b.book_id = m.book_id
              where b.reader_id = p.reader_id and b.office_id = p.office_id and f.status <> 'closed'
                and f.escalated_at is not null) as stuck
    from pairs p
    join staff s on s.staff_id = p.reader_id
    join office o on o.office_id = p.office_id
    left join due on due.reader_id = p.reader_id and due.office_id = p.office_id
    left join done on done.reader_id = p.reader_id and done.office_id = p.office_id
    order by o.code, s.full_name, p.reader_id`.execute(db);
  const startBy = chinaTime(q.date, dayStart);
  const uploadDeadline = chinaTime(q.date, uploadBy);
  const readers: MonitorRow[] = rows.map((r) => ({
    readerId: r.reader_id,
    readerName: r.reader_name,
    officeId: r.office_id,
    officeName: r.office_name,
    books: r.books ?? [],
    due: r.due ?? 0,
    remote: r.remote ?? 0,
    read: r.read ?? 0,
    estimated: r.estimated ?? 0,
    skipped: r.skipped ?? 0,
    review: r.review ?? 0,
    anomalies: r.anomalies ?? 0,
    offRoute: r.off_route ?? 0,
    uploaded: r.uploaded ?? 0,
    firstReadAt: r.first_read_at?.toISOString() ?? null,
    lastReadAt: r.last_read_at?.toISOString() ?? null,
    uploadedAt: r.uploaded_at?.toISOString() ?? null,
    downloadedAt: r.downloaded_at?.toISOString() ?? null,
    startedLate: r.first_read_at !== null && r.first_read_at > startBy,
    uploadedLate: r.uploaded_at !== null && r.uploaded_at > uploadDeadline,
    stuckEscalated: r.stuck,
  }));
  const sum = (
    k: 'due' | 'remote' | 'read' | 'estimated' | 'skipped' | 'review' | 'anomalies' | 'offRoute' | 'uploaded',
  ) => readers.reduce((s, r) => s + r[k], 0);
  return {
    date: q.date,
    dayStart,
    uploadBy,
    readers,
    totals: {
      due: sum('due'),
      remote: sum('remote'),
      read: sum('read'),
      estimated: sum('estimated'),
      skipped: sum('skipped'),
      review: sum('review'),
      anomalies: sum('anomalies'),
      offRoute: sum('offRoute'),
      uploaded: sum('uploaded'),
    },
  };
}

// ------------------------------------------------------------------ reading rate and accuracy

export interface StatFigures {
  /** Customers to read that month (isToRead, with a meter in a book read that month). */
  toRead: number;
  /** Of those, customers with an actual reading of the month standing (accepted, review or conflict). */
  read: number;
  /** Of those, customers with only an estimate. */
  estimated: number;
  /** Actual readings of the month of customers to read. */
  readings: number;
  /** Of those, readings changed by an approved index correction. */
  corrected: number;
  /** read ÷ toRead (null when nobody was to be read). */
  readingRate: number | null;
  /** (readings − corrected) ÷ readings (null without readings). */
  accuracy: number | null;
  /** estimated ÷ toRead. */
  estimatedShare: number | null;
}

interface StatRowSql {
  month: string;
  office_id: number;
  book_id: number;
  reader_id: number | null;
  to_read: number;
  read: number;
  estimated: number;
  readings: number;
  corrected: number;
}

const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 10_000) / 10_000);

function figures(rows: StatRowSql[]): StatFigures {
  const toRead = rows.reduce((s, r) => s + r.to_read, 0);
  const read = rows.reduce((s, r) => s + r.read, 0);
  const estimated = rows.reduce((s, r) => s + r.estimated, 0);
  const readings = rows.reduce((s, r) => s + r.readings, 0);
  const corrected = rows.reduce((s, r) => s + r.corrected, 0);
  return {
    toRead,
    read,
    estimated,
    readings,
    corrected,
    readingRate: ratio(read, toRead),
    accuracy: ratio(readings - corrected, readings),
    estimatedShare: ratio(estimated, toRead),
  };
}

function groupBy<K>(rows: StatRowSql[], key: (r: StatRowSql) => K): Map<K, StatRowSql[]> {
  const out = new Map<K, StatRowSql[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

/**
 * The customers of the scope with their book (that of their first meter in service filed in a book),
 * the book's zone and reader: `primary` is a CTE for the queries below.
 */
function primary(scope: RawBuilder<unknown>, first: string) {
  return sql`
    primary_meter as (
      select distinct on (m.account_id) m.account_id, m.book_id
      from meter m
      where m.state = 'in_service' and m.book_id is not null
      order by m.account_id, m.meter_id
    ), cust as materialized (
      select c.account_id, c.office_id, pm.book_id, b.zone,
             greatest(to_char(c.connected_on, 'YYYY-MM'), ${addMonths(first, -1)}) as connected
      from customer c
      join primary_meter pm on pm.account_id = c.account_id
      join book b on b.book_id = pm.book_id
      where c.state = any(${[...STATES_TO_READ]}::text[]) and c.connected_on is not null and ${scope}
    )`;
}

/** Counts of one book's customers connected in one month (or before the trend: its first month − 1). */
interface Group {
  month: string | null;
  office_id: number;
  book_id: number;
  zone: Zone;
  connected: string;
  customers: number;
  read: number;
  estimated: number;
  readings: number;
  corrected: number;
}

/**
 * Three set-based passes instead of one per customer and month, each counting by book, zone and the
 * month the customers were connected: the customers; each month's readings of them; and the approved
 * corrections among those. Which groups are to be read in which month is then decided here, by the
 * rules themselves (isToRead on the connection month, isReadingMonth on the book's zone).
 */
async function statsRows(
  db: Kysely<DB>,
  months: string[],
  scope: RawBuilder<unknown>,
  today: string,
): Promise<StatRowSql[]> {
  // Millions of rows at a million customers: hashed in memory (never merge-joined through a sort on
  // disk), not worth compiling, and the three passes on three connections at once.
  const tuned = <T>(run: (trx: Transaction<DB>) => Promise<T>) =>
    db.transaction().execute(async (trx) => {
      await sql`set local work_mem = '256MB'`.execute(trx);
      await sql`set local jit = off`.execute(trx);
      await sql`set local enable_mergejoin = off`.execute(trx);
      return run(trx);
    });
  const cte = primary(scope, months[0]!);
  const [toRead, read, corrected] = await Promise.all([
    tuned((trx) =>
      sql<Group>`
      with ${cte}
      select null as month, office_id, book_id, zone, connected, count(*)::int as customers,
             0 as read, 0 as estimated, 0 as readings, 0 as corrected
      from cust group by 2, 3, 4, 5`.execute(trx),
    ),
    tuned((trx) =>
      sql<Group>`
      with ${cte}, rd as (
        select r.period, r.account_id,
               bool_or(r.kind = 'actual') as has_actual,
               bool_or(r.kind = 'estimated') as has_estimated,
               count(*) filter (where r.kind = 'actual') as readings
        from reading r
        where r.period = any(${months}::text[]) and r.status in ('accepted', 'review', 'conflict')
        group by r.period, r.account_id
      )
      select rd.period as month, cust.office_id, cust.book_id, cust.zone, cust.connected,
             0 as customers,
             (count(*) filter (where rd.has_actual))::int as read,
             (count(*) filter (where not rd.has_actual and rd.has_estimated))::int as estimated,
             coalesce(sum(rd.readings), 0)::int as readings, 0 as corrected
      from rd join cust on cust.account_id = rd.account_id
      group by 1, 2, 3, 4, 5`.execute(trx),
    ),
    tuned((trx) =>
      sql<Group>`
      with ${cte}
      select r.period as month, cust.office_id, cust.book_id, cust.zone, cust.connected,
             0 as customers, 0 as read, 0 as estimated, 0 as readings, count(*)::int as corrected
      from (select distinct account_id, reading_id from reading_correction where status = 'approved') x
      join reading r on r.account_id = x.account_id and r.reading_id = x.reading_id
      join cust on cust.account_id = r.account_id
      where r.kind = 'actual' and r.status in ('accepted', 'review', 'conflict') and r.period = any(${months}::text[])
      group by 1, 2, 3, 4, 5`.execute(trx),
    ),
  ]);
  const readerOf = await monthReaders(db, months, { today });
  // The rules: customers are read in a month when connected before it and their book's zone is read.
  // (The SQL kept only the states isToRead reads; here it judges the connection month.)
  const due = (g: Group, month: string) =>
    isToRead({ state: STATES_TO_READ[0]!, connectedOn: `${g.connected}-01` }, month) &&
    isReadingMonth(g.zone, Number(month.slice(5, 7)));
  const out = new Map<string, StatRowSql>();
  const add = (month: string, g: Group) => {
    const key = `${month}|${g.office_id}|${g.book_id}`;
    let r = out.get(key);
    if (!r) {
      r = {
        month,
        office_id: g.office_id,
        book_id: g.book_id,
        reader_id: readerOf(g.book_id, month),
        to_read: 0,
        read: 0,
        estimated: 0,
        readings: 0,
        corrected: 0,
      };
      out.set(key, r);
    }
    r.to_read += g.customers;
    r.read += g.read;
    r.estimated += g.estimated;
    r.readings += g.readings;
    r.corrected += g.corrected;
  };
  for (const month of months) for (const g of toRead.rows) if (due(g, month)) add(month, g);
  for (const g of [...read.rows, ...corrected.rows]) if (due(g, g.month!)) add(g.month!, g);
  return [...out.values()];
}

/** Months of the trend: the month asked and the 11 before it. */
export const TREND_MONTHS = 12;

/**
 * Reading rate and accuracy for a month, by office, book and reader, and the last 12 months. A
 * customer belongs to the book of its first meter in service that is filed in a book (its lowest
 * meter id), is to be read in a month when isToRead says so and that book's zone is read that month,
 * and counts under the reader who held the book that month (monthReaders).
 */
export async function readingStats(db: Kysely<DB>, caller: Caller, q: { month: string; officeId?: number }) {
  const months = Array.from({ length: TREND_MONTHS }, (_, i) => addMonths(q.month, i - (TREND_MONTHS - 1)));
  const scope = officeCondition(caller, sql`c.office_id`, q.officeId);
  const rows = await statsRows(db, months, scope, todayInChina());

  const current = rows.filter((r) => r.month === q.month);
  const [offices, books, readers] = await Promise.all([
    db.selectFrom('office').select(['office_id', 'code', 'name']).execute(),
    db.selectFrom('book').select(['book_id', 'code', 'name', 'office_id']).execute(),
    db.selectFrom('staff').select(['staff_id', 'full_name']).execute(),
  ]);
  const officeOf = new Map(offices.map((o) => [o.office_id, o]));
  const bookOf = new Map(books.map((b) => [b.book_id, b]));
  const readerOf = new Map(readers.map((s) => [s.staff_id, s]));
  const byOffice = [...groupBy(current, (r) => r.office_id)].map(([officeId, list]) => ({
    key: officeId,
    officeId,
    officeName: officeOf.get(officeId)?.name ?? '',
    ...figures(list),
  }));
  byOffice.sort((a, b) =>
    (officeOf.get(a.officeId)?.code ?? '').localeCompare(officeOf.get(b.officeId)?.code ?? ''),
  );
  const byBook = [...groupBy(current, (r) => r.book_id)].map(([bookId, list]) => ({
    key: bookId,
    bookId,
    bookCode: bookOf.get(bookId)?.code ?? '',
    bookName: bookOf.get(bookId)?.name ?? '',
    officeId: list[0]!.office_id,
    readerId: list[0]!.reader_id,
    readerName: list[0]!.reader_id === null ? null : (readerOf.get(list[0]!.reader_id)?.full_name ?? null),
    ...figures(list),
  }));
  byBook.sort((a, b) => a.bookCode.localeCompare(b.bookCode));
  const byReader = [...groupBy(current, (r) => `${r.reader_id ?? ''}:${r.office_id}`)].map(([key, list]) => ({
    key,
    readerId: list[0]!.reader_id,
    readerName: list[0]!.reader_id === null ? null : (readerOf.get(list[0]!.reader_id)?.full_name ?? null),
    officeId: list[0]!.office_id,
    officeName: officeOf.get(list[0]!.office_id)?.name ?? '',
    ...figures(list),
  }));
  byReader.sort((a, b) => (a.readerName ?? '').localeCompare(b.readerName ?? '', 'zh-CN'));
  const byMonth = groupBy(rows, (r) => r.month);
  const trend = months.map((month) => ({ month, ...figures(byMonth.get(month) ?? []) }));
  return { month: q.month, totals: figures(current), byOffice, byBook, byReader, trend };
}
