import { Decimal } from 'decimal.js';
import { addDays, toUtc } from '../calendar/workingDays.ts';

/**
 * Day arithmetic for billing periods. Periods are closed ranges of calendar days
 * [from, to], both YYYY-MM-DD and both included, computed in UTC so no timezone moves a day.
 */

const DAY_MS = 86_400_000;

/** Days in [from, to], both included (0 when to is before from). */
export function daysInclusive(from: string, to: string): number {
  return Math.max(0, Math.round((toUtc(to) - toUtc(from)) / DAY_MS) + 1);
}

export function yearOf(date: string): number {
  return Number(date.slice(0, 4));
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function minDate(a: string, b: string): string {
  return a <= b ? a : b;
}

export function maxDate(a: string, b: string): string {
  return a >= b ? a : b;
}

/**
 * The length of [from, to] in months, counted by calendar month: each day weighs
 * 1 / (days in its month). A whole calendar month is exactly 1, February included; a quarter
 * Jan–Mar is exactly 3. Additive: splitting a range at any day splits its months exactly.
 */
export function monthsIn(from: string, to: string): Decimal {
  let months = new Decimal(0);
  let cursor = from;
  // At most one step per calendar month touched; bounded by the period limit of the caller.
  while (cursor <= to) {
    const y = yearOf(cursor);
    const m = Number(cursor.slice(5, 7));
    const monthDays = daysInMonth(y, m);
    const monthEnd = `${cursor.slice(0, 8)}${String(monthDays).padStart(2, '0')}`;
    const end = minDate(monthEnd, to);
    months = months.plus(new Decimal(daysInclusive(cursor, end)).div(monthDays));
    cursor = addDays(end, 1);
  }
  return months;
}

/** Splits [from, to] at every 1 January inside it: annual blocks restart with the calendar year. */
export function splitByYear(from: string, to: string): { from: string; to: string }[] {
  const parts: { from: string; to: string }[] = [];
  for (let cursor = from; cursor <= to; ) {
    const end = minDate(`${yearOf(cursor)}-12-31`, to);
    parts.push({ from: cursor, to: end });
    cursor = addDays(end, 1);
  }
  return parts;
}
