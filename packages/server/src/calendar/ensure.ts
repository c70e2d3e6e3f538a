import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { type CalendarDayRow, lastYearToLoad, officialCalendar, provisionalDaysOf } from './official.ts';

/** calendar_year.source of a year known by the weekend rule only. */
export const PROVISIONAL_SOURCE = 'weekends';

export interface YearLoad {
  year: number;
  official: boolean;
  source: string;
  /** Days written or changed. */
  written: number;
  /** Days an admin edited, left as they are. */
  keptAdmin: number;
}

/**
 * Loads the official working-day calendar into calendar_day (see docs/reading.md): every year the
 * holiday package covers, as official, and the years after it up to next year (China time) as
 * provisional (weekends only). Cheap on every start: a year already loaded from the same package
 * version, or already provisional, is skipped. Days an admin edited (source 'admin') are never
 * overwritten.
 */
export async function ensureCalendar(
  db: Kysely<DB>,
  opts: { today?: string } = {},
): Promise<{ loaded: YearLoad[] }> {
  const official = officialCalendar();
  const lastYear = Math.max(lastYearToLoad(opts.today), official.years.at(-1) ?? 0);
  const existing = await db.selectFrom('calendar_year').select(['year', 'official', 'source']).execute();
  const known = new Map(existing.map((y) => [y.year, y]));
  const covered = new Set(official.years);
  const stale = official.years.filter((y) => {
    const row = known.get(y);
    return !(row?.official && row.source === official.source);
  });
  const provisional: number[] = [];
  for (let y = (official.years.at(-1) ?? lastYear) + 1; y <= lastYear; y++)
    if (!known.has(y) && !covered.has(y)) provisional.push(y);
  if (stale.length === 0 && provisional.length === 0) return { loaded: [] };

  const loaded: YearLoad[] = [];
  await db.transaction().execute(async (trx) => {
    // Two servers starting on one database load it once.
    await sql`select pg_advisory_xact_lock(hashtext('meterline.calendar'))`.execute(trx);
    const now = new Map(
      (await trx.selectFrom('calendar_year').select(['year', 'official', 'source']).execute()).map((y) => [
        y.year,
        y,
      ]),
    );
    for (const year of stale) {
      const row = now.get(year);
      if (row?.official && row.source === official.source) continue;
      loaded.push(await writeYear(trx, year, official.daysOf(year), true, official.source));
    }
    for (const year of provisional) {
      if (now.has(year)) continue;
      loaded.push(await writeYear(trx, year, provisionalDaysOf(year), false, PROVISIONAL_SOURCE));
    }
  });
  return { loaded };
}

/** Reloads one year from the package (or by the weekend rule when it has no data), keeping admin edits. */
export async function reloadYear(trx: Transaction<DB>, year: number): Promise<YearLoad> {
  const official = officialCalendar();
  return official.years.includes(year)
    ? writeYear(trx, year, official.daysOf(year), true, official.source)
    : writeYear(trx, year, provisionalDaysOf(year), false, PROVISIONAL_SOURCE);
}

async function writeYear(
  trx: Transaction<DB>,
  year: number,
  days: CalendarDayRow[],
  official: boolean,
  source: string,
): Promise<YearLoad> {
  const daySource = official ? 'official' : 'rule';
  const written = await sql<{ day: string }>`
    insert into calendar_day (day, kind, name, source)
    select d.day, d.kind, d.name, ${daySource}
    from unnest(${days.map((d) => d.day)}::date[], ${days.map((d) => d.kind)}::text[],
                ${days.map((d) => d.name)}::text[]) as d(day, kind, name)
    on conflict (day) do update
      set kind = excluded.kind, name = excluded.name, source = excluded.source, updated_by = null, updated_at = now()
      where calendar_day.source <> 'admin'
        and (calendar_day.kind, calendar_day.name, calendar_day.source)
            is distinct from (excluded.kind, excluded.name, excluded.source)
    returning day`.execute(trx);
  const admin = await sql<{ n: number }>`
    select count(*)::int as n from calendar_day
    where day between ${`${year}-01-01`}::date and ${`${year}-12-31`}::date and source = 'admin'`.execute(
    trx,
  );
  await trx
    .insertInto('calendar_year')
    .values({ year, official, source })
    .onConflict((oc) => oc.column('year').doUpdateSet({ official, source, loaded_at: sql`now()` }))
    .execute();
  return { year, official, source, written: written.rows.length, keptAdmin: admin.rows[0]?.n ?? 0 };
}
