import { type CalendarEntry, WorkingCalendar } from '@meterline/domain';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * The working-day calendar for [from, to] from calendar_day: every "working day" computation in
 * the server goes through this (days outside the stored years follow the weekend rule).
 */
export async function loadWorkingCalendar(
  db: Kysely<DB>,
  from: string,
  to: string,
): Promise<WorkingCalendar> {
  const rows = await db
    .selectFrom('calendar_day')
    .select(['day', 'kind', 'name'])
    .where('day', '>=', from)
    .where('day', '<=', to)
    .where('kind', 'in', ['holiday', 'adjusted_workday'])
    .execute();
  return new WorkingCalendar(rows.map((r): CalendarEntry => ({ date: r.day, kind: r.kind, name: r.name })));
}
