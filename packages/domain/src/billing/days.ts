import { Decimal } from 'decimal.js';

/**
 * Day arithmetic for billing periods. Periods are closed ranges of calendar days
 * [from, to], both YYYY-MM-DD and both included, computed in UTC so no timezone moves a day.
 */

const DAY_MS = 86_400_000;

/** Milliseconds of a YYYY-MM-DD date at 00:00 UTC (read by position: bills price many dates). */
function utcMs(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));
}

/** Days in [from, to], both included (0 when to is before from). */
export function daysInclusive(from: string, to: string): number {
  return Math.max(0, Math.round((utcMs(to) - utcMs(from)) / DAY_MS) + 1);
}

export function yearOf(date: string): number {
  return Number(date.slice(0, 4));
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  if (month !== 2) return MONTH_DAYS[month - 1]!;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** The day after a YYYY-MM-DD date. */
export function nextDay(date: string): string {
  const year = yearOf(date);
  const month = Number(date.slice(5, 7));
  const day = Number(date.slice(8, 10));
  if (day < daysInMonth(year, month)) return `${date.slice(0, 8)}${pad2(day + 1)}`;
  if (month < 12) return `${date.slice(0, 5)}${pad2(month + 1)}-01`;
  return `${year + 1}-01-01`;
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
  if (to < from) return months;
  let year = yearOf(from);
  let month = Number(from.slice(5, 7));
  let firstDay = Number(from.slice(8, 10));
  const lastYear = yearOf(to);
  const lastMonth = Number(to.slice(5, 7));
  // One step per calendar month touched; bounded by the period limit of the caller.
  for (;;) {
    const monthDays = daysInMonth(year, month);
    const last = year === lastYear && month === lastMonth;
    const lastDay = last ? Number(to.slice(8, 10)) : monthDays;
    months = months.plus(new Decimal(lastDay - firstDay + 1).div(monthDays));
    if (last) return months;
    month++;
    if (month > 12) {
      month = 1;
      year++;
    }
    firstDay = 1;
  }
}

/** Splits [from, to] at every 1 January inside it: annual blocks restart with the calendar year. */
export function splitByYear(from: string, to: string): { from: string; to: string }[] {
  const parts: { from: string; to: string }[] = [];
  for (let cursor = from; cursor <= to; ) {
    const end = minDate(`${yearOf(cursor)}-12-31`, to);
    parts.push({ from: cursor, to: end });
    cursor = nextDay(end);
  }
  return parts;
}
