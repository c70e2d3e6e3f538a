import { formatAddress } from '@meterline/domain';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { AnomalyInfo, MeterHistory, PastReading } from './model.ts';

/** SQL for the reading area: loading what the rules need, set-based, for many meters at once. */

export type Db = Kysely<DB> | Transaction<DB>;

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
  const { rows: summaries } = meters.length
    ? await sql<{
        account_id: number;
        meter_id: number;
        hist: string | null;
        estimates: number;
        recent: string | null;
      }>`
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
      from unnest(${meters.map((m) => m.accountId)}::bigint[], ${meters.map((m) => m.meterId)}::bigint[]) as km(a, m)
      cross join lateral (select * from reading r where r.account_id = km.a and r.meter_id = km.m offset 0) r
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
        filter (where x.period >= ${recentFrom}) as recent
    from x group by x.account_id, x.meter_id`.execute(db)
    : { rows: [] };
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
