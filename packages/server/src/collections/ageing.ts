import {
  type AgeingBasis,
  type AgeingEdges,
  ageItem,
  cycleBucketLabels,
  DEFAULT_CYCLE_EDGES,
  DEFAULT_DAY_EDGES,
  dayBucketLabels,
  parseEdges,
  readingCycleMonths,
  type Settings,
  todayInChina,
  type Zone,
  zoneClassOf,
} from '@meterline/domain';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Caller } from '../platform/context.ts';
import { loadSettings } from '../platform/settings.ts';
import type { Db } from '../readings/repository.ts';
import { officeCondition } from '../readings/service.ts';

/**
 * Arrears ageing (DOMAIN.md §6, docs/arrears.md "Ageing"): every meter with an open bill unpaid
 * past its due date, aged by its oldest such bill in billing cycles (its book's zone) and in days
 * (domain collections/ageing.ts), totalled per customer, book, reader or office; and the daily
 * snapshot per office and bucket (arrears_snapshot) behind the chart of the buckets over time.
 */

export type AgeingGroup = 'office' | 'book' | 'reader' | 'customer';

/** One meter in arrears (bills without a meter: their account, meter_id 0). */
export interface ArrearsRow {
  account_id: number;
  meter_id: number;
  office_id: number;
  book_id: number | null;
  book_code: string | null;
  zone: Zone | null;
  reader_id: number | null;
  oldest_due_on: string;
  owed_fen: number;
  bills: number;
}

export function ageingEdges(settings: Settings): AgeingEdges {
  return {
    cycles:
      parseEdges(String(settings['collections.ageing.cycleEdges']), 1) ?? parseEdges(DEFAULT_CYCLE_EDGES, 1)!,
    days: parseEdges(String(settings['collections.ageing.dayEdges'])) ?? parseEdges(DEFAULT_DAY_EDGES)!,
  };
}

export function bucketLabels(edges: AgeingEdges, basis: AgeingBasis): string[] {
  return basis === 'cycles' ? cycleBucketLabels(edges.cycles) : dayBucketLabels(edges.days);
}

/**
 * The meters in arrears on `asOf`: open bills unpaid past their due date, grouped by meter. With
 * `historical`, as they stood that day from bill and payment dates: the principal paid by postings
 * made up to that China day, bills not cancelled by then.
 */
export async function arrearsRows(
  db: Db,
  asOf: string,
  where: RawBuilder<unknown> = sql`true`,
  historical = false,
): Promise<ArrearsRow[]> {
  const owed = historical
    ? sql`b.amount_fen - coalesce((
          select sum(l.credit_fen - l.debit_fen) from ledger_line l
            join ledger_posting p on p.account_id = l.account_id and p.posting_id = l.posting_id
           where l.account_id = b.account_id and l.bill_id = b.bill_id and l.ledger_account = 'receivable'
             and l.part = 'principal' and (p.created_at at time zone 'Asia/Shanghai')::date <= ${asOf}::date), 0)`
    : sql`b.amount_fen - b.paid_fen`;
  const standing = historical
    ? sql`(b.status = 'open' or (b.cancelled_at at time zone 'Asia/Shanghai')::date > ${asOf}::date)`
    : sql`b.status = 'open' and b.paid_fen < b.amount_fen`;
  const { rows } = await sql<ArrearsRow>`
    with owed as (
      select b.account_id, coalesce(b.meter_id, 0) as meter_id, b.due_on, ${owed} as owed_fen
        from bill b
       where ${standing} and b.due_on < ${asOf}::date and b.amount_fen > 0
    )
    select o.account_id, o.meter_id, c.office_id, m.book_id, bk.code as book_code, bk.zone, bk.reader_id,
           min(o.due_on)::text as oldest_due_on, sum(o.owed_fen)::bigint as owed_fen, count(*)::int as bills
      from owed o
      join customer c on c.account_id = o.account_id
      left join meter m on m.account_id = o.account_id and m.meter_id = o.meter_id
      left join book bk on bk.book_id = m.book_id
     where o.owed_fen > 0 and ${where}
     group by o.account_id, o.meter_id, c.office_id, m.book_id, bk.code, bk.zone, bk.reader_id`.execute(db);
  return rows.map((r) => ({
    ...r,
    account_id: Number(r.account_id),
    meter_id: Number(r.meter_id),
    office_id: Number(r.office_id),
    book_id: r.book_id === null ? null : Number(r.book_id),
    reader_id: r.reader_id === null ? null : Number(r.reader_id),
    owed_fen: Number(r.owed_fen),
  }));
}

export function cycleMonthsOf(zone: Zone | null, settings: Settings): number {
  return zone === null
    ? settings['collections.ageing.defaultCycleMonths']
    : readingCycleMonths(zoneClassOf(zone));
}

export interface AgeingCell {
  meters: number;
  accounts: number;
  owedFen: number;
}

export interface AgeingGroupRow {
  key: number;
  label: string;
  officeId: number | null;
  buckets: Record<string, AgeingCell>;
  meters: number;
  accounts: number;
  owedFen: number;
  /** customer grouping: the oldest overdue bill's due date, cycles and days behind. */
  oldestDueOn?: string;
  cycles?: number;
  days?: number;
}

export interface AgeingQuery {
  groupBy: AgeingGroup;
  basis: AgeingBasis;
  officeId?: number;
  bookId?: number;
  readerId?: number;
  bucket?: string;
  page?: number;
  pageSize?: number;
}

export interface AgeingReport {
  asOf: string;
  basis: AgeingBasis;
  groupBy: AgeingGroup;
  buckets: string[];
  totals: { buckets: Record<string, AgeingCell>; meters: number; accounts: number; owedFen: number };
  rows: AgeingGroupRow[];
  total: number;
}

const emptyCells = (labels: string[]) =>
  Object.fromEntries(labels.map((l) => [l, { meters: 0, accounts: 0, owedFen: 0 }])) as Record<
    string,
    AgeingCell
  >;

/** Ageing per office, book, reader or customer, over the caller's offices, as of today. */
export async function ageingReport(db: Kysely<DB>, caller: Caller, q: AgeingQuery): Promise<AgeingReport> {
  const asOf = todayInChina();
  const settings = await loadSettings(db);
  const edges = ageingEdges(settings);
  const labels = bucketLabels(edges, q.basis);
  const parts = [officeCondition(caller, sql`c.office_id`, q.officeId)];
  if (q.bookId !== undefined) parts.push(sql`m.book_id = ${q.bookId}`);
  if (q.readerId !== undefined) parts.push(sql`bk.reader_id = ${q.readerId}`);
  const items = await arrearsRows(db, asOf, sql.join(parts, sql` and `));
  const names = await groupNames(db, q.groupBy, items);
  const groups = new Map<
    number,
    AgeingGroupRow & { accountSet: Set<number>; cellAccounts: Map<string, Set<number>> }
  >();
  const totals = { buckets: emptyCells(labels), meters: 0, accounts: 0, owedFen: 0 };
  const totalAccounts = new Set<number>();
  const totalCellAccounts = new Map<string, Set<number>>();
  for (const item of items) {
    const aged = ageItem(
      {
        oldestDueOn: item.oldest_due_on,
        cycleMonths: cycleMonthsOf(item.zone, settings),
        owedFen: item.owed_fen,
      },
      asOf,
      edges,
    );
    const bucket = q.basis === 'cycles' ? aged.cycleBucket : aged.dayBucket;
    if (q.bucket !== undefined && bucket !== q.bucket) continue;
    const key =
      q.groupBy === 'office'
        ? item.office_id
        : q.groupBy === 'book'
          ? (item.book_id ?? 0)
          : q.groupBy === 'reader'
            ? (item.reader_id ?? 0)
            : item.account_id;
    let g = groups.get(key);
    if (!g) {
      g = {
        key,
        label: names.get(key) ?? '—',
        officeId: q.groupBy === 'office' || q.groupBy === 'customer' ? item.office_id : null,
        buckets: emptyCells(labels),
        meters: 0,
        accounts: 0,
        owedFen: 0,
        accountSet: new Set(),
        cellAccounts: new Map(),
      };
      groups.set(key, g);
    }
    if (q.groupBy === 'book' || q.groupBy === 'reader') g.officeId = item.office_id;
    if (q.groupBy === 'customer') {
      if (g.oldestDueOn === undefined || item.oldest_due_on < g.oldestDueOn)
        g.oldestDueOn = item.oldest_due_on;
      g.cycles = Math.max(g.cycles ?? 0, aged.cycles);
      g.days = Math.max(g.days ?? 0, aged.days);
    }
    for (const [cells, accs, target] of [
      [g.buckets, g.cellAccounts, g],
      [totals.buckets, totalCellAccounts, totals],
    ] as const) {
      const cell = cells[bucket]!;
      cell.meters++;
      cell.owedFen += item.owed_fen;
      let set = accs.get(bucket);
      if (!set) {
        set = new Set();
        accs.set(bucket, set);
      }
      if (!set.has(item.account_id)) {
        set.add(item.account_id);
        cell.accounts++;
      }
      target.meters++;
      target.owedFen += item.owed_fen;
    }
    if (!g.accountSet.has(item.account_id)) {
      g.accountSet.add(item.account_id);
      g.accounts++;
    }
    totalAccounts.add(item.account_id);
  }
  totals.accounts = totalAccounts.size;
  const all = [...groups.values()]
    .map(({ accountSet: _a, cellAccounts: _c, ...row }) => row)
    .sort((a, b) => b.owedFen - a.owedFen || a.key - b.key);
  const pageSize = q.pageSize ?? (q.groupBy === 'customer' ? 50 : 500);
  const offset = ((q.page ?? 1) - 1) * pageSize;
  return {
    asOf,
    basis: q.basis,
    groupBy: q.groupBy,
    buckets: labels,
    totals,
    rows: all.slice(offset, offset + pageSize),
    total: all.length,
  };
}

async function groupNames(db: Db, groupBy: AgeingGroup, items: ArrearsRow[]): Promise<Map<number, string>> {
  const ids = (pick: (r: ArrearsRow) => number | null) => [
    ...new Set(items.map(pick).filter((x): x is number => x !== null)),
  ];
  if (groupBy === 'office') {
    const rows = await db.selectFrom('office').select(['office_id', 'name']).execute();
    return new Map(rows.map((r) => [Number(r.office_id), r.name]));
  }
  if (groupBy === 'book') {
    const list = ids((r) => r.book_id);
    const rows = list.length
      ? await db.selectFrom('book').select(['book_id', 'code', 'name']).where('book_id', 'in', list).execute()
      : [];
    return new Map([
      [0, '—'],
      ...rows.map((r) => [Number(r.book_id), `${r.code} ${r.name}`] as [number, string]),
    ]);
  }
  if (groupBy === 'reader') {
    const list = ids((r) => r.reader_id);
    const rows = list.length
      ? await db.selectFrom('staff').select(['staff_id', 'full_name']).where('staff_id', 'in', list).execute()
      : [];
    return new Map([[0, '—'], ...rows.map((r) => [Number(r.staff_id), r.full_name] as [number, string])]);
  }
  const list = ids((r) => r.account_id);
  const names = new Map<number, string>();
  for (let i = 0; i < list.length; i += 5000) {
    const rows = await db
      .selectFrom('customer')
      .select(['account_id', 'customer_code', 'name'])
      .where('account_id', 'in', list.slice(i, i + 5000))
      .execute();
    for (const r of rows) names.set(Number(r.account_id), `${r.customer_code} ${r.name}`);
  }
  return names;
}

// ---------------------------------------------------------------- daily snapshots

/**
 * The arrears of every office on `day`, per bucket of both bases, stored in arrears_snapshot (a
 * second call for the same day replaces the day's rows: idempotent). `historical` reconstructs a
 * past day from bill and payment dates (rows marked derived).
 */
export async function takeArrearsSnapshot(
  db: Kysely<DB>,
  day: string = todayInChina(),
  historical = false,
): Promise<number> {
  const settings = await loadSettings(db, day);
  const edges = ageingEdges(settings);
  const items = await arrearsRows(db, day, sql`true`, historical);
  const offices = (await db.selectFrom('office').select('office_id').execute()).map((o) =>
    Number(o.office_id),
  );
  const cells = new Map<
    string,
    { office: number; basis: AgeingBasis; bucket: string; meters: number; accounts: Set<number>; fen: number }
  >();
  for (const office of offices)
    for (const basis of ['cycles', 'days'] as const)
      for (const bucket of bucketLabels(edges, basis))
        cells.set(`${office}|${basis}|${bucket}`, {
          office,
          basis,
          bucket,
          meters: 0,
          accounts: new Set(),
          fen: 0,
        });
  for (const item of items) {
    const aged = ageItem(
      {
        oldestDueOn: item.oldest_due_on,
        cycleMonths: cycleMonthsOf(item.zone, settings),
        owedFen: item.owed_fen,
      },
      day,
      edges,
    );
    for (const [basis, bucket] of [
      ['cycles', aged.cycleBucket],
      ['days', aged.dayBucket],
    ] as const) {
      const c = cells.get(`${item.office_id}|${basis}|${bucket}`);
      if (!c) continue;
      c.meters++;
      c.accounts.add(item.account_id);
      c.fen += item.owed_fen;
    }
  }
  const values = [...cells.values()].map((c) => ({
    office_id: c.office,
    snapshot_on: day,
    basis: c.basis,
    bucket: c.bucket,
    meters: c.meters,
    accounts: c.accounts.size,
    amount_fen: c.fen,
    derived: historical,
  }));
  await db.transaction().execute(async (trx) => {
    // One writer per day at a time (the job and a page's first request may race).
    await sql`select pg_advisory_xact_lock(hashtext(${`arrears_snapshot:${day}`}))`.execute(trx);
    // Bucket edges may have changed since: the day's rows are replaced as a whole.
    await trx.deleteFrom('arrears_snapshot').where('snapshot_on', '=', day).execute();
    for (let i = 0; i < values.length; i += 1000)
      await trx
        .insertInto('arrears_snapshot')
        .values(values.slice(i, i + 1000))
        .execute();
  });
  return values.length;
}

/** Month ends (and today's day of month in earlier months) to reconstruct: one point a month. */
export function historyDays(today: string, months: number): string[] {
  const out: string[] = [];
  const [y, m] = today.split('-').map(Number) as [number, number];
  for (let k = months; k >= 1; k--) {
    const total = y * 12 + (m - 1) - k;
    const year = Math.floor(total / 12);
    const month = (total % 12) + 1;
    const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
    out.push(`${year}-${String(month).padStart(2, '0')}-${String(last).padStart(2, '0')}`);
  }
  return out;
}

/**
 * The past months' ageing, reconstructed from bill and payment dates (one snapshot at each month
 * end), for days that have no snapshot yet: a new installation (the demo) has a chart from day one.
 */
export async function backfillArrearsSnapshots(
  db: Kysely<DB>,
  today: string = todayInChina(),
): Promise<number> {
  const settings = await loadSettings(db, today);
  const days = historyDays(today, settings['collections.ageing.historyMonths']);
  const have = new Set(
    (
      await db
        .selectFrom('arrears_snapshot')
        .select(sql<string>`snapshot_on::text`.as('d'))
        .where('snapshot_on', 'in', days)
        .groupBy('snapshot_on')
        .execute()
    ).map((r) => r.d),
  );
  let n = 0;
  for (const day of days) if (!have.has(day)) n += await takeArrearsSnapshot(db, day, true);
  return n;
}

/** Today's snapshot unless it is taken (the page asks; the daily job too). */
export async function ensureTodaySnapshot(db: Kysely<DB>, today: string = todayInChina()): Promise<boolean> {
  const any = await db
    .selectFrom('arrears_snapshot')
    .select('office_id')
    .where('snapshot_on', '=', today)
    .limit(1)
    .executeTakeFirst();
  if (any) return false;
  await takeArrearsSnapshot(db, today);
  return true;
}

export interface AgeingHistoryPoint {
  day: string;
  derived: boolean;
  buckets: Record<string, { meters: number; owedFen: number }>;
}

/** The snapshots over the caller's offices, per day and bucket, oldest first. */
export async function ageingHistory(
  db: Kysely<DB>,
  caller: Caller,
  q: { basis: AgeingBasis; officeId?: number; from?: string },
): Promise<{ buckets: string[]; points: AgeingHistoryPoint[]; offices: number[] }> {
  await ensureTodaySnapshot(db);
  const settings = await loadSettings(db);
  const labels = bucketLabels(ageingEdges(settings), q.basis);
  const { rows } = await sql<{
    day: string;
    bucket: string;
    meters: number;
    fen: number;
    derived: boolean;
    offices: number[];
  }>`
    select s.snapshot_on::text as day, s.bucket, sum(s.meters)::int as meters, sum(s.amount_fen)::bigint as fen,
           bool_or(s.derived) as derived, array_agg(distinct s.office_id) as offices
      from arrears_snapshot s
     where s.basis = ${q.basis} and ${officeCondition(caller, sql`s.office_id`, q.officeId)}
       and s.snapshot_on >= ${q.from ?? '1900-01-01'}::date
     group by s.snapshot_on, s.bucket
     order by s.snapshot_on`.execute(db);
  const points = new Map<string, AgeingHistoryPoint>();
  const offices = new Set<number>();
  for (const r of rows) {
    let p = points.get(r.day);
    if (!p) {
      p = {
        day: r.day,
        derived: false,
        buckets: Object.fromEntries(labels.map((l) => [l, { meters: 0, owedFen: 0 }])),
      };
      points.set(r.day, p);
    }
    p.derived ||= r.derived;
    // A bucket of an earlier edge setting is shown as it was stored.
    p.buckets[r.bucket] = { meters: Number(r.meters), owedFen: Number(r.fen) };
    for (const o of r.offices) offices.add(Number(o));
  }
  return { buckets: labels, points: [...points.values()], offices: [...offices] };
}
