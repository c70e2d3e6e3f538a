import {
  type AreaType,
  type FixedReading,
  type PlanBook,
  planReadingYear,
  todayInChina,
  type UnfitReason,
  type Zone,
} from '@meterline/domain';
import { sql, type Transaction } from 'kysely';
import { loadWorkingCalendar } from '../calendar/load.ts';
import type { DB } from '../db/schema.ts';
import { meterCountsByBook, workloadConfig, zoneConfig } from './repository.ts';

export interface UnfitOut {
  bookId: number;
  code: string;
  readerId: number | null;
  period: string;
  daysNeeded: number;
  reason: UnfitReason;
}

export interface PlanSummary {
  officeId: number;
  year: number;
  /** Active books of the office. */
  books: number;
  /** Book-months written (new or moved). */
  planned: number;
  /** Book-months already planned on the same day. */
  unchanged: number;
  /** Book-months kept as they were: read, moved by a change, or past. */
  kept: number;
  /** Book-months removed (inactive books, zones changed). */
  removed: number;
  /** Book-months that found no room: the office must rebalance its readers. */
  unfit: UnfitOut[];
  /** false: the year's calendar has no official holiday arrangement yet (weekends only). */
  officialCalendar: boolean;
}

/**
 * One writer of an office's plan at a time (generation, change requests and decisions): a second
 * waits, then sees the first one's dates.
 */
export async function lockOfficePlan(trx: Transaction<DB>, officeId: number): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`meterline.reading_plan.${officeId}`}))`.execute(trx);
}

export interface PlanOptions {
  /** Every existing date stays (the seed adds books without moving others); default false. */
  keepExisting?: boolean;
  /** Today (China): dates before it are past and stay; nothing new is planned before `from`. */
  today?: string;
  /** The first day new dates may take; default today. The demo seed plans its whole first year. */
  from?: string;
}

/**
 * Generates one office's reading plan for a year inside the caller's transaction: loads the
 * books, their meters by category, the reader's other books, the calendar and the fixed dates;
 * calls planReadingYear; writes only what changed. Fixed: periods with readings, periods with a
 * pending or approved change, dates already past (and, with keepExisting, every existing date).
 * Nothing new is planned before today: the months already over keep what they had.
 */
export async function generateOfficePlan(
  trx: Transaction<DB>,
  officeId: number,
  year: number,
  opts: PlanOptions = {},
): Promise<PlanSummary> {
  const today = opts.today ?? todayInChina();
  const from = `${year}-01`;
  const to = `${year}-12`;
  await lockOfficePlan(trx, officeId);

  const officeBooks = await trx
    .selectFrom('book')
    .select(['book_id', 'code', 'zone', 'area_type', 'reader_id', 'active'])
    .where('office_id', '=', officeId)
    .execute();
  const active = officeBooks.filter((b) => b.active);
  const readerIds = [...new Set(active.map((b) => b.reader_id).filter((r): r is number => r !== null))];
  // The same readers' books in other offices count by their dates, and are not planned here.
  const elsewhere = readerIds.length
    ? await trx
        .selectFrom('book')
        .select(['book_id', 'code', 'zone', 'area_type', 'reader_id'])
        .where('office_id', '<>', officeId)
        .where('active', '=', true)
        .where('reader_id', 'in', readerIds)
        .execute()
    : [];
  const counts = await meterCountsByBook(
    trx,
    [...active, ...elsewhere].map((b) => b.book_id),
  );

  const officeIds = officeBooks.map((b) => b.book_id);
  const allIds = [...officeIds, ...elsewhere.map((b) => b.book_id)];
  const existing = allIds.length
    ? await trx
        .selectFrom('reading_plan')
        .select(['book_id', 'period', 'planned_on', 'original_on'])
        .where('book_id', 'in', allIds)
        .where('period', '>=', from)
        .where('period', '<=', to)
        .execute()
    : [];
  const key = (bookId: number, period: string) => `${bookId}|${period}`;
  const fixedKeys = new Set<string>();
  const officeSet = new Set(officeIds);
  if (opts.keepExisting) {
    for (const e of existing) fixedKeys.add(key(e.book_id, e.period));
  } else {
    for (const e of existing) {
      if (!officeSet.has(e.book_id) || e.planned_on < today) fixedKeys.add(key(e.book_id, e.period));
    }
    if (officeIds.length) {
      const read = await sql<{ book_id: number; period: string }>`
        select distinct book_id, period from reading
        where book_id = any(${officeIds}::bigint[]) and period between ${from} and ${to}`.execute(trx);
      const changed = await trx
        .selectFrom('reading_plan_change')
        .select(['book_id', 'period'])
        .where('book_id', 'in', officeIds)
        .where('period', '>=', from)
        .where('period', '<=', to)
        .where('status', 'in', ['pending', 'approved'])
        .execute();
      for (const r of [...read.rows, ...changed]) fixedKeys.add(key(r.book_id, r.period));
    }
  }
  const existingByKey = new Map(existing.map((e) => [key(e.book_id, e.period), e]));
  const fixed: FixedReading[] = [...fixedKeys]
    .map((k) => existingByKey.get(k))
    .filter((e) => e !== undefined)
    .map((e) => ({ bookId: e.book_id, period: e.period, date: e.planned_on }));

  const toPlanBook = (
    b: { book_id: number; code: string; zone: string; area_type: string; reader_id: number | null },
    plan: boolean,
  ): PlanBook => ({
    bookId: b.book_id,
    code: b.code,
    zone: b.zone as Zone,
    areaType: b.area_type as AreaType,
    readerId: b.reader_id,
    meters: counts.get(b.book_id) ?? {},
    plan,
  });
  const [calendar, config, zones, calendarYear] = await Promise.all([
    loadWorkingCalendar(trx, `${year}-01-01`, `${year}-12-31`),
    workloadConfig(trx, officeId),
    zoneConfig(trx),
    trx.selectFrom('calendar_year').select('official').where('year', '=', year).executeTakeFirst(),
  ]);
  const result = planReadingYear({
    year,
    calendar,
    workload: config,
    zones,
    fixed,
    from: opts.from ?? today,
    books: [...active.map((b) => toPlanBook(b, true)), ...elsewhere.map((b) => toPlanBook(b, false))],
  });

  // Write only what changed: new or moved dates, and removals of dates no longer planned.
  const desired = result.planned.filter((p) => !p.fixed && officeSet.has(p.bookId));
  const desiredKeys = new Set(desired.map((p) => key(p.bookId, p.period)));
  const changedRows = desired.filter((p) => {
    const e = existingByKey.get(key(p.bookId, p.period));
    return !e || e.planned_on !== p.plannedOn || e.original_on !== p.plannedOn;
  });
  const obsolete = existing.filter(
    (e) =>
      officeSet.has(e.book_id) &&
      !fixedKeys.has(key(e.book_id, e.period)) &&
      !desiredKeys.has(key(e.book_id, e.period)),
  );
  if (changedRows.length) {
    await sql`
      insert into reading_plan (book_id, period, planned_on, original_on)
      select p.book_id, p.period, p.day, p.day
      from unnest(${changedRows.map((p) => p.bookId)}::bigint[], ${changedRows.map((p) => p.period)}::text[],
                  ${changedRows.map((p) => p.plannedOn)}::date[]) as p(book_id, period, day)
      on conflict (book_id, period) do update set planned_on = excluded.planned_on, original_on = excluded.original_on`.execute(
      trx,
    );
  }
  if (obsolete.length) {
    await sql`
      delete from reading_plan rp
      using unnest(${obsolete.map((e) => e.book_id)}::bigint[], ${obsolete.map((e) => e.period)}::text[]) as o(book_id, period)
      where rp.book_id = o.book_id and rp.period = o.period`.execute(trx);
  }
  const codeOf = new Map(officeBooks.map((b) => [b.book_id, b.code]));
  return {
    officeId,
    year,
    books: active.length,
    planned: changedRows.length,
    unchanged: desired.length - changedRows.length,
    kept: existing.filter((e) => officeSet.has(e.book_id) && fixedKeys.has(key(e.book_id, e.period))).length,
    removed: obsolete.length,
    unfit: result.unfit
      .filter((u) => officeSet.has(u.bookId))
      .map((u) => ({ ...u, code: codeOf.get(u.bookId) ?? '' })),
    officialCalendar: calendarYear?.official ?? false,
  };
}
