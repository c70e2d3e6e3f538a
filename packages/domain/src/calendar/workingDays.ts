/**
 * Working-day arithmetic on the national calendar: weekends are rest days, except adjusted
 * working days (调休); public holidays are rest days even on weekdays. Dates are YYYY-MM-DD
 * strings, computed in UTC so no timezone moves a day.
 */

export type DayKind = 'workday' | 'weekend' | 'holiday' | 'adjusted_workday';

export interface CalendarEntry {
  date: string;
  kind: DayKind;
  /** Holiday name, e.g. 国庆节. */
  name?: string;
}

const DAY_MS = 86_400_000;

export function toUtc(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y!, m! - 1, d!);
}

export function fromUtc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return fromUtc(toUtc(date) + days * DAY_MS);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(date: string): number {
  return new Date(toUtc(date)).getUTCDay();
}

/** The kind of a day when the calendar says nothing special about it. */
export function ordinaryKind(date: string): DayKind {
  const w = weekday(date);
  return w === 0 || w === 6 ? 'weekend' : 'workday';
}

export function isWorkingKind(kind: DayKind): boolean {
  return kind === 'workday' || kind === 'adjusted_workday';
}

/** Upper bound on days scanned when looking for working days (a year and a half of holidays). */
const MAX_SCAN_DAYS = 550;

export class WorkingCalendar {
  private readonly special: Map<string, CalendarEntry>;

  /** `entries`: the holidays and adjusted working days; every other day follows the weekend rule. */
  constructor(entries: Iterable<CalendarEntry>) {
    this.special = new Map([...entries].map((e) => [e.date, e]));
  }

  kind(date: string): DayKind {
    return this.special.get(date)?.kind ?? ordinaryKind(date);
  }

  entry(date: string): CalendarEntry {
    return this.special.get(date) ?? { date, kind: ordinaryKind(date) };
  }

  isWorkingDay(date: string): boolean {
    return isWorkingKind(this.kind(date));
  }

  /**
   * The date `n` working days after `date` (n ≥ 0). Day 0 is `date` itself when it is a working
   * day, else the next working day: a request received on a holiday starts on the next working day.
   */
  addWorkingDays(date: string, n: number): string {
    if (!Number.isInteger(n) || n < 0) throw new Error(`working days must be a whole number ≥ 0, got ${n}`);
    let day = date;
    let scanned = 0;
    while (!this.isWorkingDay(day)) {
      day = addDays(day, 1);
      if (++scanned > MAX_SCAN_DAYS)
        throw new Error(`no working day within ${MAX_SCAN_DAYS} days of ${date}`);
    }
    for (let left = n; left > 0; ) {
      day = addDays(day, 1);
      if (this.isWorkingDay(day)) left--;
      if (++scanned > MAX_SCAN_DAYS + n * 3) throw new Error(`no working day within reach of ${date}`);
    }
    return day;
  }

  /** Working days in [from, to], both included. */
  workingDaysBetween(from: string, to: string): number {
    let count = 0;
    for (let t = toUtc(from), end = toUtc(to); t <= end; t += DAY_MS)
      if (this.isWorkingDay(fromUtc(t))) count++;
    return count;
  }

  /** The working days of a month, 'YYYY-MM', in order. */
  workingDaysOfMonth(month: string): string[] {
    const days: string[] = [];
    for (let day = `${month}-01`; day.startsWith(month); day = addDays(day, 1))
      if (this.isWorkingDay(day)) days.push(day);
    return days;
  }
}
