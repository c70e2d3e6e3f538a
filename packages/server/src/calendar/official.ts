import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { addDays, type DayKind, ordinaryKind, todayInChina } from '@meterline/domain';

/**
 * The official State Council holiday arrangement, from the npm package chinese-days. Its data
 * file maps 'YYYY-MM-DD' to 'English name,中文名,n' in three maps:
 * - holidays: every day off of a public holiday, weekends inside the holiday included;
 * - workdays: the adjusted working days (调休上班 / 补班) that fall on a Saturday or Sunday;
 * - inLieuDays: the weekdays given off in exchange for those (调休休息); they are holidays too.
 * Any day in none of them follows the weekend rule.
 */

const require = createRequire(import.meta.url);

interface HolidayData {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
  inLieuDays: Record<string, string>;
}

export interface CalendarDayRow {
  day: string;
  kind: DayKind;
  name: string;
}

export interface OfficialCalendar {
  /** e.g. 'chinese-days@1.5.7': a newer package reloads the years it covers. */
  source: string;
  /** The years the package has an official arrangement for, ascending. */
  years: number[];
  /** Every day of a covered year, with its kind and Chinese name. */
  daysOf(year: number): CalendarDayRow[];
}

let cached: OfficialCalendar | null = null;

/** The package's data, read once per process. */
export function officialCalendar(): OfficialCalendar {
  if (cached) return cached;
  const pkg = JSON.parse(readFileSync(require.resolve('chinese-days/package.json'), 'utf8')) as {
    version: string;
  };
  const data = JSON.parse(
    readFileSync(require.resolve('chinese-days/dist/chinese-days.json'), 'utf8'),
  ) as HolidayData;
  const years = new Set<number>();
  for (const map of [data.holidays, data.workdays, data.inLieuDays])
    for (const day of Object.keys(map)) years.add(Number(day.slice(0, 4)));
  const chinese = (value: string) => value.split(',')[1] ?? value;
  cached = {
    source: `chinese-days@${pkg.version}`,
    years: [...years].sort((a, b) => a - b),
    daysOf(year) {
      return daysOfYear(year).map((day): CalendarDayRow => {
        const holiday = data.holidays[day];
        if (holiday !== undefined) {
          const inLieu = data.inLieuDays[day] !== undefined;
          return { day, kind: 'holiday', name: inLieu ? `${chinese(holiday)}（调休）` : chinese(holiday) };
        }
        const worked = data.workdays[day];
        if (worked !== undefined)
          return { day, kind: 'adjusted_workday', name: `${chinese(worked)}（补班）` };
        return { day, kind: ordinaryKind(day), name: '' };
      });
    },
  };
  return cached;
}

/** Every day of a year by the weekend rule alone: a provisional year. */
export function provisionalDaysOf(year: number): CalendarDayRow[] {
  return daysOfYear(year).map((day) => ({ day, kind: ordinaryKind(day), name: '' }));
}

export function daysOfYear(year: number): string[] {
  const days: string[] = [];
  for (let day = `${year}-01-01`; day.startsWith(`${year}-`); day = addDays(day, 1)) days.push(day);
  return days;
}

/** Next year in China: the last year loaded (provisionally when the package has no data yet). */
export function lastYearToLoad(today: string = todayInChina()): number {
  return Number(today.slice(0, 4)) + 1;
}
