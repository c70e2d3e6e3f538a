import { formatAddress } from '@meterline/domain';
import { CompiledQuery, type Kysely, sql, type Transaction } from 'kysely';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { CopyRows, copyFrom, copyValue } from '../db/copy.ts';
import type { DB } from '../db/schema.ts';
import {
  type AnomalyInfo,
  type BookTenure,
  doubled,
  HISTORY_BEYOND_SEASON,
  historyComplete,
  type MeterHistory,
  type PastReading,
  periodNumber,
  readerOnDay,
  readingMonthDay,
  STATUS_CODES,
  StoredReadings,
} from './model.ts';

/** SQL for the reading area: loading what the rules need, set-based, for many meters at once. */

export type Db = Kysely<DB> | Transaction<DB>;

/**
 * The recorded assignments of the books (all, or these), by book: a few per book, the earliest telling
 * who held it before (readerOnDay).
 */
export async function loadTenures(db: Db, bookIds?: readonly number[]): Promise<Map<number, BookTenure[]>> {
  let q = db
    .selectFrom('book_assignment')
    .select(['book_id', 'reader_id', 'from_date', 'to_date', 'handed_over_by']);
  if (bookIds) q = q.where('book_id', '=', sql<number>`any(${[...bookIds]}::bigint[])`);
  const out = new Map<number, BookTenure[]>();
  for (const t of await q.execute()) {
    const list = out.get(t.book_id) ?? [];
    list.push({
      readerId: t.reader_id,
      fromDate: t.from_date,
      toDate: t.to_date,
      handedOverBy: t.handed_over_by,
    });
    out.set(t.book_id, list);
  }
  return out;
}

/**
 * Who reads each book in each month: the reader who holds it (book_assignment) on its planned reading
 * day that month, else on the month's last day (readingMonthDay; with `today`, not after today) — so
 * a book handed over keeps its earlier months under the reader who read them. Of these books, or all.
 */
export async function monthReaders(
  db: Db,
  months: readonly string[],
  opts: { bookIds?: readonly number[]; today?: string } = {},
): Promise<(bookId: number, month: string) => number | null> {
  const { bookIds, today } = opts;
  const [books, tenuresOf, plans] = await Promise.all([
    db
      .selectFrom('book')
      .select(['book_id', 'reader_id'])
      .$if(bookIds !== undefined, (q) => q.where('book_id', 'in', [...bookIds!, -1]))
      .execute(),
    loadTenures(db, bookIds),
    db
      .selectFrom('reading_plan')
      .select(['book_id', 'period', 'planned_on'])
      .where('period', 'in', [...months])
      .$if(bookIds !== undefined, (q) => q.where('book_id', 'in', [...bookIds!, -1]))
      .execute(),
  ]);
  const present = new Map(books.map((b) => [b.book_id, b.reader_id]));
  const plannedOn = new Map(plans.map((p) => [`${p.book_id}|${p.period}`, p.planned_on]));
  const memo = new Map<string, number | null>();
  return (bookId, month) => {
    const key = `${bookId}|${month}`;
    let reader = memo.get(key);
    if (reader === undefined) {
      const day = readingMonthDay(month, plannedOn.get(key), today);
      reader = readerOnDay(tenuresOf.get(bookId) ?? [], present.get(bookId) ?? null, day);
      memo.set(key, reader);
    }
    return reader;
  };
}

/**
 * The books a reader holds on a day (readerOnDay), of these offices (null: all): a handover dated
 * later leaves the book with its reader until that day.
 */
export async function booksHeldOn(
  db: Db,
  staffId: number,
  day: string,
  officeIds: readonly number[] | null,
): Promise<number[]> {
  // The books the reader holds now or held or will hold by a recorded assignment.
  const { rows } = await sql<{ book_id: number; reader_id: number | null }>`
    select b.book_id, b.reader_id from book b
    where b.active and ${officeIds === null ? sql`true` : sql`b.office_id = any(${[...officeIds]}::bigint[])`}
      and (b.reader_id = ${staffId}
           or exists (select 1 from book_assignment a
                      where a.book_id = b.book_id and (a.reader_id = ${staffId} or a.handed_over_by = ${staffId})))`.execute(
    db,
  );
  const tenures = await loadTenures(
    db,
    rows.map((r) => r.book_id),
  );
  return rows
    .filter((r) => readerOnDay(tenures.get(r.book_id) ?? [], r.reader_id, day) === staffId)
    .map((r) => r.book_id);
}

/** A meter addressed by its account (the distribution key) and its id within the account. */
export interface MeterKey {
  accountId: number;
  meterId: number;
}

export const meterKey = (accountId: number, meterId: number) => `${accountId}/${meterId}`;

/** Statuses of a reading that stands for its meter and period (not rejected, not superseded). */
export const LIVE_STATUSES = ['accepted', 'review', 'conflict'] as const;

function keyArrays(keys: MeterKey[]): [number[], number[]] {
  return [keys.map((k) => k.accountId), keys.map((k) => k.meterId)];
}

export async function loadAnomalyCodes(db: Db, opts: { activeOnly?: boolean } = {}) {
  const rows = await db
    .selectFrom('anomaly_code')
    .selectAll()
    .$if(opts.activeOnly ?? false, (q) => q.where('active', '=', true))
    .orderBy('sort_order')
    .orderBy('code')
    .execute();
  return new Map<string, AnomalyInfo & { active: boolean }>(
    rows.map((r) => [
      r.code,
      {
        code: r.code,
        nameZh: r.name_zh,
        nameEn: r.name_en,
        department: r.department,
        preventsReading: r.prevents_reading,
        meterFault: r.meter_fault,
        active: r.active,
      },
    ]),
  );
}

export interface MeterRow {
  accountId: number;
  meterId: number;
  meterNo: string;
  meterState: string;
  dialDigits: number;
  initialIndex: string;
  bookId: number | null;
  officeId: number;
  customerState: string;
}

/**
 * Locks the meters about to be read (in key order, so two uploads never deadlock): a second upload
 * of the same meter waits for the first and then sees its reading, so a conflict is never missed.
 */
export async function lockMeters(db: Db, keys: MeterKey[]): Promise<void> {
  if (keys.length === 0) return;
  const [accounts, meters] = keyArrays(keys);
  await sql`
    select 1 from meter m
    join (select distinct a, m from unnest(${accounts}::bigint[], ${meters}::bigint[]) as k(a, m)) k
      on m.account_id = k.a and m.meter_id = k.m
    order by m.account_id, m.meter_id
    for no key update of m`.execute(db);
}

export interface LiveReading {
  accountId: number;
  meterId: number;
  readingId: number;
  period: string;
  kind: 'actual' | 'estimated';
  indexValue: string | null;
  status: string;
  flags: string[];
}

/** What one incoming reading (or one meter of a route) is decided against. */
export interface ReadingContext {
  meter: MeterRow;
  history: MeterHistory;
  /** A reading stored before under the same client id (a retry, a second phone). */
  duplicate: { readingId: number; flags: string[]; status: string } | null;
  /** Readings standing for the meter in the period asked about (a different new one is a conflict). */
  live: LiveReading[];
  /** The latest period whose reading review rejected and that has not been read again since. */
  revisitPeriod: string | null;
}

export interface ContextKey {
  /** The meter by account and id, or (bulk files) by meter number. */
  accountId?: number;
  meterId?: number;
  meterNo?: string;
  period: string;
  clientId: string | null;
}

interface ContextRow {
  i: string;
  account_id: number;
  meter_id: number;
  meter_no: string;
  state: string;
  dial_digits: number;
  initial_index: string;
  book_id: number | null;
  office_id: number;
  customer_state: string;
  dup_id: number | null;
  dup_flags: string[] | null;
  dup_status: string | null;
  hist: string | null;
  estimates: number;
  recent: string | null;
}

const emptyToNull = (s: string | undefined) => (s === undefined || s === '' ? null : s);

/**
 * Everything the rules need about many incoming readings, in one query: each one's meter and
 * office, a reading already stored under its client id, the readings standing for its meter and
 * period, whether review sent the meter back, and the meter's history of accepted readings pruned
 * to what the rules read — the last three readings, the last three actual ones, every estimate
 * since the last actual reading, and actual readings of the same season a year before any day in
 * `window` (estimateConsumption) — each with its China day and the days since the reading before.
 * The history travels as compact text: parsing a few strings is far cheaper than thousands of rows.
 * Keys whose meter does not exist are absent from the answer.
 */
export async function loadContexts(
  db: Db,
  keys: ContextKey[],
  window: { from: Date; to: Date },
): Promise<Map<number, ReadingContext>> {
  const out = new Map<number, ReadingContext>();
  if (keys.length === 0) return out;
  const seasonFrom = new Date(window.from.getTime() - 400 * 86_400_000);
  const seasonTo = new Date(window.to.getTime() - 330 * 86_400_000);
  const recentFrom = new Date(window.from.getTime() - 124 * 86_400_000).toISOString().slice(0, 7);
  const byNumber = keys.some((k) => k.meterNo !== undefined);
  // Lateral lookups: one index probe per key, whatever the planner thinks of the join's size (with a
  // hash join it would read every meter, or every reading, for a chunk of a smart-meter file). The
  // `offset 0` keeps PostgreSQL from flattening them back into plain joins.
  const meterJoin = byNumber
    ? sql`cross join lateral (select mr.account_id, mr.meter_id from meter_registry mr where mr.meter_no = k.no offset 0) mr
          cross join lateral (select * from meter m where m.account_id = mr.account_id and m.meter_id = mr.meter_id offset 0) m`
    : sql`cross join lateral (select * from meter m where m.account_id = k.a and m.meter_id = k.m offset 0) m`;
  // Two queries whose sizes the planner knows (an array per column): the keys' meters, offices and
  // earlier client ids, then the readings of those meters, aggregated per meter.
  const { rows: found } = await sql<Omit<ContextRow, 'hist' | 'estimates' | 'recent'>>`
    select k.i, m.account_id, m.meter_id, m.meter_no, m.state, m.dial_digits, m.initial_index, m.book_id,
           c.office_id, c.state as customer_state,
           d.reading_id as dup_id, d.flags as dup_flags, d.status as dup_status
    from unnest(${keys.map((k) => k.accountId ?? null)}::bigint[], ${keys.map((k) => k.meterId ?? null)}::bigint[],
                ${keys.map((k) => k.meterNo ?? null)}::text[], ${keys.map((k) => k.clientId)}::text[])
         with ordinality as k(a, m, no, c, i)
    ${meterJoin}
    cross join lateral (select c.office_id, c.state from customer c where c.account_id = m.account_id offset 0) c
    left join lateral (select d.reading_id, d.flags, d.status from reading d
                       where k.c is not null and d.account_id = m.account_id and d.client_id = k.c offset 0) d on true`.execute(
    db,
  );
  const distinct = new Map<string, MeterKey>();
  for (const f of found)
    distinct.set(meterKey(f.account_id, f.meter_id), { accountId: f.account_id, meterId: f.meter_id });
  const meters = [...distinct.values()];
  interface Summary {
    account_id: number;
    meter_id: number;
    hist: string | null;
    estimates: number;
    recent: string | null;
    older: number;
    accepted: number;
    third_actual: number | null;
  }
  /**
   * The meters' readings, aggregated per meter. Bounded: accepted readings from before the season
   * window only as far as the rules can need them (the newest HISTORY_BEYOND_SEASON); a meter whose
   * third newest actual reading (with one after it) is not among them is summarised again, whole.
   */
  const summarize = async (list: MeterKey[], bounded: boolean) => {
    const one = sql`r.account_id = km.a and r.meter_id = km.m`;
    const lateral = bounded
      ? sql`((select * from reading r
              where ${one} and ((r.status = 'accepted' and r.read_at >= ${seasonFrom}) or r.period >= ${recentFrom})
              offset 0)
             union all
             (select * from reading r
              where ${one} and r.status = 'accepted' and r.read_at < ${seasonFrom} and r.period < ${recentFrom}
              order by r.read_at desc, r.reading_id desc limit ${HISTORY_BEYOND_SEASON}))`
      : sql`(select * from reading r where ${one} offset 0)`;
    const { rows } = await sql<Summary>`
    with x as (
      select r.account_id, r.meter_id, r.reading_id, r.read_at, r.period, r.kind, r.status, r.flags, r.index_value,
             r.previous_index, r.consumption_m3, r.status = 'accepted' as accepted,
             to_char(r.read_at at time zone 'UTC' + interval '8 hours', 'YYYY-MM-DD') as end_day,
             (r.read_at at time zone 'UTC' + interval '8 hours')::date
               - ((lead(r.read_at) over w) at time zone 'UTC' + interval '8 hours')::date as days,
             (extract(epoch from r.read_at) * 1000)::bigint as epoch_ms,
             row_number() over w as rn,
             count(*) filter (where r.kind = 'actual') over (w rows between unbounded preceding and current row)
               as actual_rank,
             bool_and(r.kind = 'estimated') over (w rows between unbounded preceding and current row) as trailing
      from unnest(${list.map((m) => m.accountId)}::bigint[], ${list.map((m) => m.meterId)}::bigint[]) as km(a, m)
      cross join lateral ${lateral} r
      window w as (partition by r.account_id, r.meter_id, r.status = 'accepted' order by r.read_at desc, r.reading_id desc)
    )
    select x.account_id, x.meter_id,
      string_agg(concat_ws(',', x.reading_id, x.end_day, coalesce(x.days::text, ''), coalesce(x.consumption_m3::text, ''),
                           x.kind, coalesce(x.index_value::text, ''), x.previous_index, x.epoch_ms), ';' order by x.rn)
        filter (where x.accepted and (x.rn <= 3 or x.trailing or (x.kind = 'actual' and x.actual_rank <= 3)
                                      or (x.kind = 'actual' and x.read_at between ${seasonFrom} and ${seasonTo})))
        as hist,
      (count(*) filter (where x.accepted and x.trailing))::int as estimates,
      string_agg(concat_ws(',', x.period, x.status, x.reading_id, x.kind, coalesce(x.index_value::text, ''),
                           array_to_string(x.flags, '|')), ';' order by x.read_at, x.reading_id)
        filter (where x.period >= ${recentFrom}) as recent,
      (count(*) filter (where x.accepted and x.read_at < ${seasonFrom}))::int as older,
      (count(*) filter (where x.accepted))::int as accepted,
      (min(x.rn) filter (where x.accepted and x.kind = 'actual' and x.actual_rank = 3))::int as third_actual
    from x group by x.account_id, x.meter_id`.execute(db);
    return rows;
  };
  const summaries = meters.length ? await summarize(meters, true) : [];
  // (rn counts from 1: the third actual has one after it when its rn is below the count.)
  const whole = summaries.filter(
    (x) => x.older >= HISTORY_BEYOND_SEASON && !(x.third_actual !== null && x.third_actual < x.accepted),
  );
  if (whole.length > 0) {
    const again = new Map(
      (
        await summarize(
          whole.map((x) => ({ accountId: x.account_id, meterId: x.meter_id })),
          false,
        )
      ).map((x) => [meterKey(x.account_id, x.meter_id), x]),
    );
    for (const [k, x] of summaries.entries())
      summaries[k] = again.get(meterKey(x.account_id, x.meter_id)) ?? x;
  }
  const summaryOf = new Map(summaries.map((x) => [meterKey(x.account_id, x.meter_id), x]));
  const rows: ContextRow[] = found.map((f) => {
    const x = summaryOf.get(meterKey(f.account_id, f.meter_id));
    return { ...f, hist: x?.hist ?? null, estimates: x?.estimates ?? 0, recent: x?.recent ?? null };
  });
  for (const r of rows) {
    const readings: PastReading[] = [];
    if (r.hist) {
      for (const entry of r.hist.split(';')) {
        const [id, day, days, consumption, kind, index, previous, epoch] = entry.split(',');
        readings.push({
          readingId: Number(id),
          readAt: new Date(Number(epoch)),
          kind: kind as 'actual' | 'estimated',
          indexValue: emptyToNull(index),
          previousIndex: previous!,
          consumptionM3: emptyToNull(consumption),
          previousReadAt: null,
          day,
          days: days === '' ? null : Number(days),
        });
      }
    }
    // Recent readings of any status, oldest first: those of the key's period that stand are its live
    // readings; a period with a rejected reading and none standing is one review sent back.
    const period = keys[Number(r.i) - 1]!.period;
    const live: LiveReading[] = [];
    let revisitPeriod: string | null = null;
    if (r.recent) {
      const standing = new Set<string>();
      const rejected: string[] = [];
      for (const entry of r.recent.split(';')) {
        const [p, status, id, kind, index, flags] = entry.split(',') as [
          string,
          string,
          string,
          string,
          string,
          string,
        ];
        if (status === 'rejected') rejected.push(p);
        else if ((LIVE_STATUSES as readonly string[]).includes(status)) {
          standing.add(p);
          if (p === period) {
            live.push({
              accountId: r.account_id,
              meterId: r.meter_id,
              readingId: Number(id),
              period,
              kind: kind as 'actual' | 'estimated',
              indexValue: emptyToNull(index),
              status,
              flags: flags ? flags.split('|') : [],
            });
          }
        }
      }
      for (const p of rejected)
        if (!standing.has(p) && (revisitPeriod === null || p > revisitPeriod)) revisitPeriod = p;
    }
    out.set(Number(r.i) - 1, {
      meter: {
        accountId: r.account_id,
        meterId: r.meter_id,
        meterNo: r.meter_no,
        meterState: r.state,
        dialDigits: r.dial_digits,
        initialIndex: r.initial_index,
        bookId: r.book_id,
        officeId: r.office_id,
        customerState: r.customer_state,
      },
      history: {
        dialDigits: r.dial_digits,
        initialIndex: r.initial_index,
        readings,
        estimatesInARow: r.estimates,
      },
      duplicate:
        r.dup_id === null ? null : { readingId: r.dup_id, flags: r.dup_flags ?? [], status: r.dup_status! },
      live,
      revisitPeriod,
    });
  }
  return out;
}

/** Histories of meters (routes, the review queue, estimates), ready for meterStateAt. */
export async function loadMeterHistories(
  db: Db,
  meters: MeterKey[],
  window: { from: Date; to: Date },
): Promise<Map<string, MeterHistory>> {
  const contexts = await loadContexts(
    db,
    meters.map((m) => ({ accountId: m.accountId, meterId: m.meterId, period: '', clientId: null })),
    window,
  );
  return new Map(
    [...contexts.values()].map((c) => [meterKey(c.meter.accountId, c.meter.meterId), c.history]),
  );
}

/** Reserves `count` reading ids (so photos can be named, and rows COPYed, before the insert). */
export async function reserveReadingIds(db: Db, count: number): Promise<number[]> {
  if (count === 0) return [];
  const { rows } = await sql<{ id: number }>`
    select nextval(pg_get_serial_sequence('reading', 'reading_id')) as id
    from generate_series(1, ${count}::int)`.execute(db);
  return rows.map((r) => Number(r.id));
}

/** Opens a follow-up per anomaly for its department, unless one is open for that meter and code. */
export async function openFollowups(
  db: Db,
  items: { accountId: number; meterId: number; readingId: number; code: string; department: string }[],
): Promise<number> {
  if (items.length === 0) return 0;
  const result = await sql`
    insert into followup (account_id, meter_id, reading_id, anomaly_code, department)
    select a, m, r, c, d
    from unnest(${items.map((i) => i.accountId)}::bigint[], ${items.map((i) => i.meterId)}::bigint[],
                ${items.map((i) => i.readingId)}::bigint[], ${items.map((i) => i.code)}::text[],
                ${items.map((i) => i.department)}::text[]) as t(a, m, r, c, d)
    on conflict (account_id, meter_id, anomaly_code) where status <> 'closed' do nothing`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** The supply address of a meter as one line (district, community, building, unit, door). */
export function addressLine(a: Record<string, string | null> | null): string {
  if (!a) return '';
  return formatAddress({
    district: a.district ?? '',
    community: a.community ?? '',
    building: a.building ?? '',
    unit: a.unit ?? '',
    door: a.door ?? '',
    detail: a.detail ?? '',
  });
}

export interface NewReading {
  accountId: number;
  readingId: number;
  meterId: number;
  bookId: number | null;
  period: string;
  readAt: Date;
  previousIndex: string;
  indexValue: string | null;
  consumptionM3: string | null;
  kind: 'actual' | 'estimated';
  source: 'handheld' | 'office' | 'bulk' | 'estimate';
  anomalyCodes: string[];
  flags: string[];
  note: string;
  photoPath: string | null;
  signaturePath: string | null;
  signerName: string;
  latitude: number | null;
  longitude: number | null;
  accuracyM: number | null;
  readerId: number | null;
  deviceId: string;
  clientId: string | null;
  status: 'accepted' | 'review' | 'conflict';
}

/** Rows per INSERT: one array per column, this many elements each. */
const INSERT_ROWS = 20_000;

/** Inserts readings set-based: one statement per INSERT_ROWS rows, one array parameter per column. */
export async function insertReadingRows(db: Db, rows: NewReading[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_ROWS) {
    const part = rows.slice(i, i + INSERT_ROWS);
    const col = <T>(fn: (r: NewReading) => T) => part.map(fn);
    await sql`
      insert into reading (account_id, reading_id, meter_id, book_id, period, read_at, previous_index, index_value,
                           consumption_m3, kind, source, anomaly_codes, flags, note, photo_path, signature_path,
                           signer_name, latitude, longitude, accuracy_m, reader_id, device_id, client_id, status)
      select a, id, m, b, p, t, pi, iv, cm, k, src, string_to_array(ac, ','), string_to_array(f, ','),
             n, pp, sp, sn, la, lo, acc, rd, dv, ci, s
      from unnest(${col((r) => r.accountId)}::bigint[], ${col((r) => r.readingId)}::bigint[],
                  ${col((r) => r.meterId)}::bigint[], ${col((r) => r.bookId)}::bigint[],
                  ${col((r) => r.period)}::text[], ${col((r) => r.readAt.toISOString())}::timestamptz[],
                  ${col((r) => r.previousIndex)}::numeric[], ${col((r) => r.indexValue)}::numeric[],
                  ${col((r) => r.consumptionM3)}::numeric[], ${col((r) => r.kind)}::text[],
                  ${col((r) => r.source)}::text[],
                  ${col((r) => r.anomalyCodes.join(','))}::text[], ${col((r) => r.flags.join(','))}::text[],
                  ${col((r) => r.note)}::text[], ${col((r) => r.photoPath)}::text[],
                  ${col((r) => r.signaturePath)}::text[], ${col((r) => r.signerName)}::text[],
                  ${col((r) => r.latitude)}::numeric[], ${col((r) => r.longitude)}::numeric[],
                  ${col((r) => r.accuracyM)}::int[], ${col((r) => r.readerId)}::bigint[],
                  ${col((r) => r.deviceId)}::text[], ${col((r) => r.clientId)}::text[],
                  ${col((r) => r.status)}::text[])
        as t(a, id, m, b, p, t, pi, iv, cm, k, src, ac, f, n, pp, sp, sn, la, lo, acc, rd, dv, ci, s)`.execute(
      db,
    );
  }
}

// ------------------------------------------------------------------ smart-meter files, in bulk

/**
 * How the bulk path reads a column: a whole number ('int', any integer type), a NUMERIC with at most
 * three decimals in thousandths ('milli'), a timestamptz in microseconds since 1970 ('us'), text, or
 * a reading's period, kind or status as a number (periodNumber, 1 for estimated, STATUS_CODES).
 */
export type BulkColumnType = 'int' | 'milli' | 'us' | 'text' | 'period' | 'kind' | 'status';
export interface BulkColumn {
  sql: string;
  type: BulkColumnType;
}
export type BulkValue = number | string | null;

/**
 * The connection one chunk of a smart-meter file runs its transaction on. With a raw client from a
 * pg.Pool the chunk reads through binary COPY (no text to format in PostgreSQL or to parse here) and
 * writes through COPY; on a Kysely transaction (an app built without the pool) the same statements run
 * as plain queries and inserts. Values are only spliced into SQL through `sqlArray`, which quotes them.
 */
export interface BulkConnection {
  query<R>(text: string, values?: readonly unknown[]): Promise<R[]>;
  /** Each row of `select <columns> from <from>`, its values as the column types say, in order. */
  selectRows(
    columns: readonly BulkColumn[],
    from: string,
    onRow: (values: BulkValue[]) => void,
  ): Promise<void>;
  /** Stores readings as they are added: COPY, or insertReadingRows without a raw client. */
  readingWriter(): { add(row: BulkReadingRow): void; finish(): Promise<void> };
}

/** A reading of a smart-meter file, ready to store (source 'bulk', device 'bulk', no reader). */
export interface BulkReadingRow {
  accountId: number;
  meterId: number;
  bookId: number | null;
  period: string;
  readAt: Date;
  readAtIso: string;
  previousIndex: string;
  indexValue: string | null;
  consumptionM3: string | null;
  kind: 'actual' | 'estimated';
  anomalyCodes: readonly string[];
  flags: readonly string[];
  clientId: string;
  status: 'accepted' | 'review' | 'conflict';
}

/** Text as a dollar-quoted SQL literal (taken as it is, whatever the string settings), with a tag it does not contain. */
export function dollarQuoted(text: string): string {
  let tag = 'k';
  while (text.includes(`$${tag}$`)) tag += 'k';
  return `$${tag}$${text}$${tag}$`;
}

const ARRAY_SPECIAL = /[\\"]/;

/** A PostgreSQL array literal of `values` with its type, quoted for splicing into SQL. */
export function sqlArray(
  values: readonly (string | number | null)[],
  type: 'text' | 'int8' | 'int4',
): string {
  const items = values.map((v) => {
    if (v === null) return 'NULL';
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new Error(`not a whole number: ${v}`);
      return String(v);
    }
    return `"${ARRAY_SPECIAL.test(v) ? v.replace(/[\\"]/g, (c) => `\\${c}`) : v}"`;
  });
  return `${dollarQuoted(`{${items.join(',')}}`)}::${type}[]`;
}

/** A text[] for COPY, as the insert's string_to_array(…, ',') makes it. */
export function copyTextArray(items: readonly string[]): string {
  if (items.length === 0) return '{}';
  return copyValue(`{${items.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`);
}

const READING_COPY_COLUMNS = (
  'account_id, meter_id, book_id, period, read_at, previous_index, index_value, consumption_m3, kind, source, ' +
  'anomaly_codes, flags, device_id, client_id, status'
).split(', ');

function readingCopyLine(r: BulkReadingRow): string {
  return `${r.accountId}\t${r.meterId}\t${r.bookId ?? '\\N'}\t${r.period}\t${r.readAtIso}\t${r.previousIndex}\t${
    r.indexValue ?? '\\N'
  }\t${r.consumptionM3 ?? '\\N'}\t${r.kind}\tbulk\t${copyTextArray(r.anomalyCodes)}\t${copyTextArray(r.flags)}\tbulk\t${copyValue(r.clientId)}\t${r.status}\n`;
}

/** PostgreSQL's epoch (2000-01-01) in microseconds since 1970. */
const PG_EPOCH_US = 946_684_800_000_000;
const BINARY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** A signed 64-bit big-endian integer that must be a safe JavaScript number. */
function int64(buf: Buffer, at: number): number {
  const value = buf.readInt32BE(at) * 4_294_967_296 + buf.readUInt32BE(at + 4);
  if (!Number.isSafeInteger(value)) throw new Error('a 64-bit value beyond the safe integer range');
  return value;
}

/** NUMERIC's binary form (base-10000 digits) in thousandths; more than three decimals is refused. */
function numericMilli(buf: Buffer, at: number): number {
  const digits = buf.readInt16BE(at);
  const weight = buf.readInt16BE(at + 2);
  const sign = buf.readUInt16BE(at + 4);
  if (sign === 0xc000) throw new Error('NaN is no volume');
  let milli = 0;
  for (let i = 0; i < digits; i++) {
    const digit = buf.readInt16BE(at + 8 + 2 * i);
    const power = weight - i;
    if (power >= 0) milli += digit * 10 ** (4 * power + 3);
    else if (power === -1 && digit % 10 === 0) milli += digit / 10;
    else if (digit !== 0) throw new Error('a volume with more than three decimals');
  }
  if (!Number.isSafeInteger(milli)) throw new Error('a volume beyond the safe integer range');
  return sign === 0x4000 ? -milli : milli;
}

/** A reading status's code (STATUS_CODES) from its bytes, without making a string. */
function statusCode(buf: Buffer, at: number, length: number): number {
  const first = buf[at];
  const code =
    first === 0x61
      ? 1
      : first === 0x63
        ? 3
        : first === 0x73
          ? 5
          : first === 0x72
            ? length === 6
              ? 2
              : 4
            : 0;
  // Each code's word, checked by its length (the statuses differ in their first letter or length).
  return code !== 0 && length === STATUS_LENGTHS[code]
    ? code
    : (STATUS_CODES[buf.toString('latin1', at, at + length)] ?? 0);
}
const STATUS_LENGTHS = [0, 8, 6, 8, 8, 10];

/** Rows of a binary COPY, decoded as they arrive (a row may straddle two chunks). */
function binaryCopyReader(types: readonly BulkColumnType[], onRow: (values: BulkValue[]) => void) {
  let pending: Buffer | null = null;
  let headerRead = false;
  let ended = false;
  return {
    push(chunk: Buffer) {
      let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      if (!headerRead) {
        if (buf.length < 19) {
          pending = buf;
          return;
        }
        if (!buf.subarray(0, 11).equals(BINARY_SIGNATURE)) throw new Error('not a binary COPY');
        at = 19 + buf.readInt32BE(15);
        headerRead = true;
      }
      const values: BulkValue[] = new Array(types.length);
      for (;;) {
        if (buf.length - at < 2) break;
        const fields = buf.readInt16BE(at);
        if (fields === -1) {
          ended = true;
          at += 2;
          break;
        }
        if (fields !== types.length) throw new Error(`a row of ${fields} fields, not ${types.length}`);
        // The whole row first: its fields' lengths, then decode.
        let end = at + 2;
        let complete = true;
        for (let i = 0; i < fields; i++) {
          if (buf.length - end < 4) {
            complete = false;
            break;
          }
          const length = buf.readInt32BE(end);
          end += 4 + Math.max(length, 0);
          if (end > buf.length) {
            complete = false;
            break;
          }
        }
        if (!complete) break;
        let p = at + 2;
        for (let i = 0; i < fields; i++) {
          const length = buf.readInt32BE(p);
          p += 4;
          if (length === -1) {
            values[i] = null;
            continue;
          }
          switch (types[i]) {
            case 'int':
              values[i] =
                length === 8 ? int64(buf, p) : length === 4 ? buf.readInt32BE(p) : buf.readInt16BE(p);
              break;
            case 'milli':
              values[i] = numericMilli(buf, p);
              break;
            case 'us':
              values[i] = int64(buf, p) + PG_EPOCH_US;
              break;
            case 'period':
              values[i] =
                length === 7 && buf[p + 4] === 0x2d
                  ? (((buf[p]! - 48) * 10 + buf[p + 1]! - 48) * 100 +
                      (buf[p + 2]! - 48) * 10 +
                      buf[p + 3]! -
                      48) *
                      12 +
                    (buf[p + 5]! - 48) * 10 +
                    buf[p + 6]! -
                    48 -
                    1
                  : periodNumber(buf.toString('utf8', p, p + length));
              break;
            case 'kind':
              values[i] = buf[p] === 0x65 ? 1 : 0; // 'estimated' | 'actual'
              break;
            case 'status':
              values[i] = statusCode(buf, p, length);
              break;
            default:
              values[i] = buf.toString('utf8', p, p + length);
          }
          p += length;
        }
        onRow(values);
        at = end;
      }
      pending = at < buf.length ? buf.subarray(at) : null;
      buf = Buffer.alloc(0);
    },
    end() {
      if (!ended || pending) throw new Error('COPY ended inside a row');
    },
  };
}

/** A chunk's connection over a raw client of a pg.Pool: reads and writes through COPY. */
export function poolConnection(client: pg.PoolClient): BulkConnection {
  return {
    async query<R>(text: string, values?: readonly unknown[]) {
      return (await client.query(text, values as unknown[] | undefined)).rows as R[];
    },
    async selectRows(columns, from, onRow) {
      const select = columns.map((c) => `(${c.sql})::${PG_TYPE[c.type]}`).join(', ');
      const stream = client.query(
        copyStreams.to(`copy (select ${select} from ${from}) to stdout (format binary)`),
      );
      const reader = binaryCopyReader(
        columns.map((c) => c.type),
        onRow,
      );
      for await (const chunk of stream) reader.push(chunk as Buffer);
      reader.end();
    },
    readingWriter() {
      // The COPY data as it is made, in buffers of a few MB: no string or object per reading outlives
      // its decision (long-lived small objects are what a garbage collector spends its time on).
      const rows = new CopyRows();
      return {
        add(row) {
          rows.add(readingCopyLine(row));
        },
        finish: () => copyFrom(client, 'reading', READING_COPY_COLUMNS, rows),
      };
    },
  };
}

const PG_TYPE: Record<BulkColumnType, string> = {
  int: 'int8',
  milli: 'numeric',
  us: 'timestamptz',
  text: 'text',
  period: 'text',
  kind: 'text',
  status: 'text',
};

/** A text column of the plain query as the binary reader gives it. */
function fromText(type: BulkColumnType, value: BulkValue): BulkValue {
  if (value === null || typeof value === 'number') return value;
  if (type === 'period') return periodNumber(value);
  if (type === 'kind') return value === 'estimated' ? 1 : 0;
  if (type === 'status') return STATUS_CODES[value] ?? 0;
  return value;
}

/** A column as plain SQL gives the same value (to node-postgres's parsers: int8 as a number). */
function plainColumn(c: BulkColumn, i: number): string {
  switch (c.type) {
    case 'int':
      return `(${c.sql})::int8 as c${i}`;
    case 'milli':
      return `((${c.sql}) * 1000)::int8 as c${i}`;
    case 'us':
      return `(extract(epoch from (${c.sql})) * 1000000)::int8 as c${i}`;
    default:
      return `(${c.sql})::text as c${i}`;
  }
}

/** A chunk's connection over a Kysely transaction: the same statements as plain queries and inserts. */
export function kyselyConnection(trx: Transaction<DB>): BulkConnection {
  const query = async <R>(text: string, values: readonly unknown[] = []) =>
    (await trx.executeQuery<R>(CompiledQuery.raw(text, [...values]))).rows as R[];
  return {
    query,
    async selectRows(columns, from, onRow) {
      const rows = await query<Record<string, BulkValue>>(
        `select ${columns.map(plainColumn).join(', ')} from ${from}`,
      );
      for (const r of rows) onRow(columns.map((c, i) => fromText(c.type, r[`c${i}`] ?? null)));
    },
    readingWriter() {
      const rows: BulkReadingRow[] = [];
      return {
        add: (row) => void rows.push(row),
        finish: () => insertBulkRows(trx, rows),
      };
    },
  };
}

async function insertBulkRows(trx: Transaction<DB>, rows: readonly BulkReadingRow[]): Promise<void> {
  const ids = await reserveReadingIds(trx, rows.length);
  await insertReadingRows(
    trx,
    rows.map((r, i) => ({
      accountId: r.accountId,
      readingId: ids[i]!,
      meterId: r.meterId,
      bookId: r.bookId,
      period: r.period,
      readAt: r.readAt,
      previousIndex: r.previousIndex,
      indexValue: r.indexValue,
      consumptionM3: r.consumptionM3,
      kind: r.kind,
      source: 'bulk',
      anomalyCodes: [...r.anomalyCodes],
      flags: [...r.flags],
      note: '',
      photoPath: null,
      signaturePath: null,
      signerName: '',
      latitude: null,
      longitude: null,
      accuracyM: null,
      readerId: null,
      deviceId: 'bulk',
      clientId: r.clientId,
      status: r.status,
    })),
  );
}

export interface BulkKey {
  meterNo: string;
  clientId: string;
}

/** What the keys of a chunk found, by key position: columns of numbers (NaN: none). */
export interface BulkKeysFound {
  /** 1: the meter number is known. */
  found: Uint8Array;
  accountId: Float64Array;
  meterId: Float64Array;
  /** 1: the meter is in service. */
  inService: Uint8Array;
  dialDigits: Int32Array;
  initialMilli: Float64Array;
  bookId: Float64Array;
  /** The office of the meter's customer. */
  officeId: Float64Array;
  /** 1: a reading is stored under the key's client id (the file, or this row of it, sent again). */
  duplicate: Uint8Array;
}

/**
 * An office's meters by number, loaded once for a large smart-meter file: one scan of the meters
 * instead of three index probes for every row (bench/README.md, readings). A snapshot taken as the
 * file starts: a meter added, removed or moved to another book while the file is stored is seen as it
 * was.
 */
export class MeterDirectory {
  private readonly byNo = new Map<string, number>();
  private length = 0;
  accountId = new Float64Array(1024);
  meterId = new Float64Array(1024);
  inService = new Uint8Array(1024);
  dialDigits = new Int32Array(1024);
  initialMilli = new Float64Array(1024);
  /** NaN: in no book. */
  bookId = new Float64Array(1024);

  constructor(readonly officeId: number) {}

  get size(): number {
    return this.length;
  }

  /** The meter's position, or -1 if the office has no meter of that number. */
  find(meterNo: string): number {
    return this.byNo.get(meterNo) ?? -1;
  }

  add(
    meterNo: string,
    m: {
      accountId: number;
      meterId: number;
      inService: boolean;
      dialDigits: number;
      initialMilli: number;
      bookId: number | null;
    },
  ): void {
    if (this.length === this.accountId.length) this.grow();
    const i = this.length++;
    this.byNo.set(meterNo, i);
    this.accountId[i] = m.accountId;
    this.meterId[i] = m.meterId;
    this.inService[i] = m.inService ? 1 : 0;
    this.dialDigits[i] = m.dialDigits;
    this.initialMilli[i] = m.initialMilli;
    this.bookId[i] = m.bookId ?? Number.NaN;
  }

  private grow(): void {
    this.accountId = doubled(this.accountId);
    this.meterId = doubled(this.meterId);
    this.inService = doubled(this.inService);
    this.dialDigits = doubled(this.dialDigits);
    this.initialMilli = doubled(this.initialMilli);
    this.bookId = doubled(this.bookId);
  }
}

/** What the bulk path reads of a meter (`m`): account, meter, in service (1/0), dial digits, initial index, book. */
const METER_COLUMNS: readonly BulkColumn[] = [
  { sql: 'm.account_id', type: 'int' },
  { sql: 'm.meter_id', type: 'int' },
  { sql: "(m.state = 'in_service')::int", type: 'int' },
  { sql: 'm.dial_digits', type: 'int' },
  { sql: 'm.initial_index', type: 'milli' },
  { sql: 'm.book_id', type: 'int' },
];

/** The meters of an office's customers, by number (hash joins over the three tables). */
export async function loadMeterDirectory(conn: BulkConnection, officeId: number): Promise<MeterDirectory> {
  if (!Number.isSafeInteger(officeId)) throw new Error(`not an office id: ${officeId}`);
  const directory = new MeterDirectory(officeId);
  await conn.selectRows(
    [{ sql: 'mr.meter_no', type: 'text' }, ...METER_COLUMNS],
    `meter_registry mr
     join meter m on m.account_id = mr.account_id and m.meter_id = mr.meter_id
     join customer c on c.account_id = m.account_id
     where c.office_id = ${officeId}`,
    (v) =>
      directory.add(v[0] as string, {
        accountId: v[1] as number,
        meterId: v[2] as number,
        inService: v[3] === 1,
        dialDigits: v[4] as number,
        initialMilli: v[5] as number,
        bookId: v[6] as number | null,
      }),
  );
  return directory;
}

/**
 * For each key of a smart-meter file, its meter (by number), the meter's office and whether a reading
 * is stored under the key's client id. Without a directory: an index probe each, the keys in
 * meter-number order so that neighbouring keys read neighbouring pages. With the office's directory:
 * the meters from it, and only the client ids probed (a meter not in it is none of the office's).
 */
export async function loadBulkKeys(
  conn: BulkConnection,
  keys: readonly BulkKey[],
  directory: MeterDirectory | null = null,
): Promise<BulkKeysFound> {
  const n = keys.length;
  const out: BulkKeysFound = {
    found: new Uint8Array(n),
    accountId: new Float64Array(n).fill(Number.NaN),
    meterId: new Float64Array(n).fill(Number.NaN),
    inService: new Uint8Array(n),
    dialDigits: new Int32Array(n),
    initialMilli: new Float64Array(n),
    bookId: new Float64Array(n).fill(Number.NaN),
    officeId: new Float64Array(n).fill(Number.NaN),
    duplicate: new Uint8Array(n),
  };
  if (n === 0) return out;
  if (directory) {
    const probe: number[] = [];
    for (const [i, k] of keys.entries()) {
      const d = directory.find(k.meterNo);
      if (d === -1) continue;
      out.found[i] = 1;
      out.accountId[i] = directory.accountId[d]!;
      out.meterId[i] = directory.meterId[d]!;
      out.inService[i] = directory.inService[d]!;
      out.dialDigits[i] = directory.dialDigits[d]!;
      out.initialMilli[i] = directory.initialMilli[d]!;
      out.bookId[i] = directory.bookId[d]!;
      out.officeId[i] = directory.officeId;
      probe.push(i);
    }
    if (probe.length === 0) return out;
    // In key order, so that neighbouring probes read neighbouring pages of the index.
    probe.sort((a, b) => out.accountId[a]! - out.accountId[b]! || a - b);
    await conn.selectRows(
      [{ sql: 'k.i', type: 'int' }],
      `unnest(${sqlArray(
        probe.map((i) => out.accountId[i]!),
        'int8',
      )}, ${sqlArray(
        probe.map((i) => keys[i]!.clientId),
        'text',
      )}, ${sqlArray(probe, 'int4')}) as k(a, c, i)
      where exists (select 1 from reading d where d.account_id = k.a and d.client_id = k.c)`,
      (v) => {
        out.duplicate[v[0] as number] = 1;
      },
    );
    return out;
  }
  const order = keys
    .map((_, i) => i)
    .sort((a, b) => {
      const x = keys[a]!.meterNo;
      const y = keys[b]!.meterNo;
      return x < y ? -1 : x > y ? 1 : a - b;
    });
  const from = `unnest(${sqlArray(
    order.map((i) => keys[i]!.meterNo),
    'text',
  )}, ${sqlArray(
    order.map((i) => keys[i]!.clientId),
    'text',
  )}, ${sqlArray(order, 'int4')}) as k(no, c, i)
    cross join lateral (select mr.account_id, mr.meter_id from meter_registry mr where mr.meter_no = k.no offset 0) mr
    cross join lateral (select m.account_id, m.meter_id, m.state, m.dial_digits, m.initial_index, m.book_id from meter m
                        where m.account_id = mr.account_id and m.meter_id = mr.meter_id offset 0) m
    cross join lateral (select c.office_id from customer c where c.account_id = m.account_id offset 0) c`;
  await conn.selectRows(
    [
      { sql: 'k.i', type: 'int' },
      ...METER_COLUMNS,
      { sql: 'c.office_id', type: 'int' },
      // Only the unique index on (account, client id) is read: no reading row unless the key is stored.
      {
        sql: '(exists (select 1 from reading d where d.account_id = m.account_id and d.client_id = k.c))::int',
        type: 'int',
      },
    ],
    from,
    (v) => {
      const i = v[0] as number;
      out.found[i] = 1;
      out.accountId[i] = v[1] as number;
      out.meterId[i] = v[2] as number;
      out.inService[i] = v[3] as number;
      out.dialDigits[i] = v[4] as number;
      out.initialMilli[i] = v[5] as number;
      out.bookId[i] = v[6] === null ? Number.NaN : (v[6] as number);
      out.officeId[i] = v[7] as number;
      out.duplicate[i] = v[8] as number;
    },
  );
  return out;
}

/**
 * The readings of many meters that the rules look at — the accepted ones (from `seasonFromUs` on, and
 * as many before as the rules need) and any of a period from `recentFrom` on (conflicts, review sent
 * back) — handed over meter by meter, in the order given
 * (every meter, those without readings too), each meter's newest first (by read time, then id).
 */
export async function loadBulkReadings(
  conn: BulkConnection,
  meters: readonly MeterKey[],
  recentFrom: string,
  onMeter: (i: number, stored: StoredReadings) => void,
  /**
   * Where the rules' look-back starts (the season window's first instant): accepted readings before it
   * are loaded only as far as the rules can need them (HISTORY_BEYOND_SEASON, historyComplete), so
   * that years of readings do not slow a file down. Without it, every accepted reading is loaded.
   */
  seasonFromUs?: number,
): Promise<void> {
  if (meters.length === 0) return;
  const columns = `r.reading_id, r.read_at, r.period, r.kind, r.status, r.index_value, r.previous_index,
                   r.consumption_m3`;
  const recent = dollarQuoted(recentFrom);
  const one = 'r.account_id = k.a and r.meter_id = k.m';
  const order = 'order by r.read_at desc, r.reading_id desc';
  let lateral: string;
  if (seasonFromUs === undefined) {
    lateral = `select ${columns} from reading r
               where ${one} and (r.status = 'accepted' or r.period >= ${recent}) ${order} offset 0`;
  } else {
    // The season window and the recent periods whole; before them, the newest few accepted readings
    // (all of them older than any reading of the first part: a period is never after its read time).
    const since = `${dollarQuoted(new Date(seasonFromUs / 1000).toISOString())}::timestamptz`;
    // (The two parts come out one after the other, as the Append runs them: no sort of the two, and
    // the order is asserted below as it arrives.)
    lateral = `(select ${columns} from reading r
                where ${one} and ((r.status = 'accepted' and r.read_at >= ${since}) or r.period >= ${recent})
                ${order} offset 0)
               union all
               (select ${columns} from reading r
                where ${one} and r.status = 'accepted' and r.read_at < ${since} and r.period < ${recent}
                ${order} limit ${HISTORY_BEYOND_SEASON})`;
  }
  const from = `unnest(${sqlArray(
    meters.map((m) => m.accountId),
    'int8',
  )}, ${sqlArray(
    meters.map((m) => m.meterId),
    'int8',
  )}) with ordinality as k(a, m, i)
    cross join lateral (${lateral}) r`;
  const stored = new StoredReadings();
  /** Meters whose history reaches further back than was loaded: loaded again whole, at the end. */
  const deeper: number[] = [];
  const hand = (i: number) => {
    if (seasonFromUs !== undefined && !historyComplete(stored, seasonFromUs, HISTORY_BEYOND_SEASON))
      deeper.push(i);
    else onMeter(i, stored);
    stored.clear();
  };
  let current = 0;
  let lastAt = 0;
  let lastId = 0;
  await conn.selectRows(
    [
      { sql: 'k.i', type: 'int' },
      { sql: 'r.reading_id', type: 'int' },
      { sql: 'r.read_at', type: 'us' },
      { sql: 'r.period', type: 'period' },
      { sql: 'r.kind', type: 'kind' },
      { sql: 'r.status', type: 'status' },
      { sql: 'r.index_value', type: 'milli' },
      { sql: 'r.previous_index', type: 'milli' },
      { sql: 'r.consumption_m3', type: 'milli' },
    ],
    from,
    (v) => {
      const i = (v[0] as number) - 1;
      const readingId = v[1] as number;
      const readAtUs = v[2] as number;
      if (i < current) throw new Error('meters out of order');
      if (i > current) {
        for (; current < i; current++) hand(current);
      } else if (stored.length > 0 && (readAtUs > lastAt || (readAtUs === lastAt && readingId > lastId))) {
        // Newest first within each meter, as the rules read a history: the query's order, asserted.
        throw new Error('readings out of order');
      }
      lastAt = readAtUs;
      lastId = readingId;
      stored.push(
        readAtUs,
        v[3] as number,
        v[4] === 1,
        v[5] as number,
        v[6] as number | null,
        v[7] as number,
        v[8] as number | null,
      );
    },
  );
  for (; current < meters.length; current++) hand(current);
  if (deeper.length > 0) {
    await loadBulkReadings(
      conn,
      deeper.map((i) => meters[i]!),
      recentFrom,
      (j, whole) => onMeter(deeper[j]!, whole),
    );
  }
}

/** An audit entry written on a chunk's connection, committed with what the chunk stored. */
export async function auditOn(
  conn: BulkConnection,
  e: {
    staffId: number | null;
    officeId: number;
    entityType: string;
    entityId: string;
    action: string;
    after: unknown;
    requestId: string;
    ip: string | null;
  },
): Promise<void> {
  await conn.query(
    `insert into audit_log (staff_id, office_id, entity_type, entity_id, action, after, request_id, ip)
     values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [e.staffId, e.officeId, e.entityType, e.entityId, e.action, JSON.stringify(e.after), e.requestId, e.ip],
  );
}

/** Settings of a chunk's transaction: its statements are index probes and small sorts per key. */
export async function bulkSession(conn: BulkConnection): Promise<void> {
  // Compiling them costs more than it saves; a plan of parallel workers would only add processes.
  await conn.query(
    `select set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)`,
  );
}

/** Opens a follow-up per anomaly of readings just stored (found by client id), as openFollowups does. */
export async function openBulkFollowups(
  conn: BulkConnection,
  items: readonly { accountId: number; clientId: string; code: string; department: string }[],
): Promise<void> {
  if (items.length === 0) return;
  await conn.query(
    `insert into followup (account_id, meter_id, reading_id, anomaly_code, department)
     select r.account_id, r.meter_id, r.reading_id, k.code, k.dept
     from unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) with ordinality as k(a, c, code, dept, i)
     cross join lateral (select r.account_id, r.meter_id, r.reading_id from reading r
                         where r.account_id = k.a and r.client_id = k.c offset 0) r
     order by k.i
     on conflict (account_id, meter_id, anomaly_code) where status <> 'closed' do nothing`,
    [
      items.map((i) => i.accountId),
      items.map((i) => i.clientId),
      items.map((i) => i.code),
      items.map((i) => i.department),
    ],
  );
}
