import { type DayKind, DomainError, ordinaryKind, todayInChina } from '@meterline/domain';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { audit } from '../platform/audit.ts';
import { type RequestContext, requireCaller } from '../platform/context.ts';
import { reloadYear, type YearLoad } from './ensure.ts';
import { daysOfYear, lastYearToLoad, officialCalendar } from './official.ts';

export interface CalendarDayOut {
  day: string;
  kind: DayKind;
  name: string;
  source: 'official' | 'rule' | 'admin';
}

/** Years anyone may ask for or reload: the package's first year to ten years ahead. */
export const FIRST_CALENDAR_YEAR = 2000;
export const lastCalendarYear = () => lastYearToLoad(todayInChina()) + 10;

const yearOutOfRange = (year: number) =>
  new DomainError(
    'VALIDATION',
    { year, from: FIRST_CALENDAR_YEAR, to: lastCalendarYear() },
    { 'zh-CN': '年份应在 {from}–{to} 之间', en: 'The year must be between {from} and {to}' },
    [
      {
        path: 'year',
        code: 'YEAR_OUT_OF_RANGE',
        messages: { 'zh-CN': '年份应在 {from}–{to} 之间', en: 'Between {from} and {to}' },
      },
    ],
  );

export function checkYear(year: number): void {
  if (year < FIRST_CALENDAR_YEAR || year > lastCalendarYear()) throw yearOutOfRange(year);
}

/**
 * Whether a weekend day is worked is what makes it an adjusted working day (调休), and a weekday
 * off is a holiday: the stored kind always says which, so the working-day arithmetic reads it
 * right (a Saturday sent as 'workday' is stored as 'adjusted_workday', a Monday sent as 'weekend'
 * as 'holiday').
 */
export function normaliseKind(day: string, kind: DayKind): DayKind {
  const weekend = ordinaryKind(day) === 'weekend';
  if (weekend && kind === 'workday') return 'adjusted_workday';
  if (weekend && kind === 'adjusted_workday') return kind;
  if (!weekend && kind === 'weekend') return 'holiday';
  if (!weekend && kind === 'adjusted_workday') return 'workday';
  return kind;
}

export class CalendarService {
  constructor(private readonly db: Kysely<DB>) {}

  /** Every day of a year: stored days, and the weekend rule for any day not stored. */
  async year(year: number) {
    checkYear(year);
    const [meta, rows] = await Promise.all([
      this.db.selectFrom('calendar_year').selectAll().where('year', '=', year).executeTakeFirst(),
      this.db
        .selectFrom('calendar_day')
        .select(['day', 'kind', 'name', 'source'])
        .where('day', '>=', `${year}-01-01`)
        .where('day', '<=', `${year}-12-31`)
        .execute(),
    ]);
    const stored = new Map(rows.map((r) => [r.day, r]));
    const days = daysOfYear(year).map((day): CalendarDayOut => {
      const r = stored.get(day);
      return r
        ? { day, kind: r.kind, name: r.name, source: r.source as CalendarDayOut['source'] }
        : { day, kind: ordinaryKind(day), name: '', source: 'rule' };
    });
    return {
      year,
      official: meta?.official ?? false,
      source: meta?.source ?? '',
      loadedAt: meta?.loaded_at ?? null,
      /** The holiday package's years, so the UI can say which years are official. */
      officialYears: officialCalendar().years,
      days,
    };
  }

  async setDay(
    ctx: RequestContext,
    day: string,
    body: { kind: DayKind; name: string },
  ): Promise<CalendarDayOut> {
    const caller = requireCaller(ctx);
    checkYear(Number(day.slice(0, 4)));
    const kind = normaliseKind(day, body.kind);
    return this.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom('calendar_day')
        .select(['day', 'kind', 'name', 'source'])
        .where('day', '=', day)
        .forUpdate()
        .executeTakeFirst();
      const after = await trx
        .insertInto('calendar_day')
        .values({ day, kind, name: body.name, source: 'admin', updated_by: caller.staffId })
        .onConflict((oc) =>
          oc.column('day').doUpdateSet({
            kind,
            name: body.name,
            source: 'admin',
            updated_by: caller.staffId,
            updated_at: new Date(),
          }),
        )
        .returning(['day', 'kind', 'name', 'source'])
        .executeTakeFirstOrThrow();
      await audit(trx, ctx, {
        entityType: 'calendar_day',
        entityId: day,
        action: 'update',
        officeId: null,
        before: before ?? { day, kind: ordinaryKind(day), name: '', source: 'rule' },
        after,
      });
      return { ...after, source: after.source as CalendarDayOut['source'] };
    });
  }

  async reload(ctx: RequestContext, year: number): Promise<YearLoad> {
    checkYear(year);
    return this.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom('calendar_year')
        .selectAll()
        .where('year', '=', year)
        .executeTakeFirst();
      const result = await reloadYear(trx, year);
      await audit(trx, ctx, {
        entityType: 'calendar_year',
        entityId: year,
        action: 'reload',
        officeId: null,
        before: before ? { official: before.official, source: before.source } : null,
        after: result,
      });
      return result;
    });
  }
}
