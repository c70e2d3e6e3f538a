/**
 * Field collection tasks (DOMAIN.md §6, "Field tasks"): on reading days, tasks for the customers on
 * the route in arrears, graded by arrears cycles; on collection days, what reading days left undone
 * plus repeat visits; a dedicated collector's daily list = their arrears points ÷ working days left
 * in the month, in ascending book order, adjustable by hand. See docs/field-collection.md.
 */
import { addDays, type WorkingCalendar } from '../calendar/workingDays.ts';
import { assert } from '../platform/errors.ts';

/** One customer in arrears on a collector's books (an "arrears point"). */
export interface ArrearsPoint {
  accountId: number;
  bookId: number;
  /** The book's code: lists run in ascending book order… */
  bookCode: string;
  /** …then in the meters' route order (null: after the numbered ones). */
  routeSeq: number | null;
  /** Overdue unpaid bills (billing cycles behind). */
  arrearsCycles: number;
  arrearsFen: number;
}

/** What the office manager changed by hand on a list: kept when the list is generated again. */
export interface ListAdjustments {
  /** Added by hand: always on the list (in book order), whatever the quota. */
  pinned?: readonly number[];
  /** Taken off by hand: never put back by the generator. */
  removed?: readonly number[];
}

/** Book order, then route order, then account: the order a collector walks the list. */
export function compareBookOrder(a: ArrearsPoint, b: ArrearsPoint): number {
  if (a.bookCode !== b.bookCode) return a.bookCode < b.bookCode ? -1 : 1;
  const ra = a.routeSeq ?? Number.MAX_SAFE_INTEGER;
  const rb = b.routeSeq ?? Number.MAX_SAFE_INTEGER;
  if (ra !== rb) return ra - rb;
  return a.accountId - b.accountId;
}

/**
 * Working days left in the month of `date`, `date` included: the divisor of the daily list.
 * A date after the month's last working day has none left.
 */
export function workingDaysLeftInMonth(calendar: WorkingCalendar, date: string): number {
  const month = date.slice(0, 7);
  let end = date;
  while (addDays(end, 1).startsWith(month)) end = addDays(end, 1);
  return calendar.workingDaysBetween(date, end);
}

/** The size of the day's share: points ÷ working days left, rounded up; all of them when none are left. */
export function dailyQuota(points: number, workingDaysLeft: number): number {
  assert(Number.isInteger(points) && points >= 0, 'points is a whole number ≥ 0');
  assert(
    Number.isInteger(workingDaysLeft) && workingDaysLeft >= 0,
    'working days left is a whole number ≥ 0',
  );
  if (points === 0) return 0;
  if (workingDaysLeft === 0) return points;
  return Math.ceil(points / workingDaysLeft);
}

/**
 * A dedicated collector's list for the day (DOMAIN.md §6: "arrears points ÷ working days this
 * month, generated in ascending book order, adjustable by hand"). `points` are the customers still
 * to be visited this month; the day takes the first ⌈points ÷ working days left⌉ of them in book
 * order, without those removed by hand, plus those pinned by hand.
 */
export function dailyCollectorList(
  points: readonly ArrearsPoint[],
  workingDaysLeft: number,
  adjustments: ListAdjustments = {},
): ArrearsPoint[] {
  const removed = new Set(adjustments.removed ?? []);
  const pinned = new Set(adjustments.pinned ?? []);
  const ordered = [...points].sort(compareBookOrder);
  const quota = dailyQuota(ordered.length, workingDaysLeft);
  const chosen = new Set<number>();
  for (const p of ordered) {
    if (chosen.size >= quota) break;
    if (!removed.has(p.accountId)) chosen.add(p.accountId);
  }
  for (const p of ordered) if (pinned.has(p.accountId)) chosen.add(p.accountId);
  return ordered.filter((p) => chosen.has(p.accountId));
}

/** Alias under the brief's name. */
export const dailyList = dailyCollectorList;

/**
 * Reading-day rule: on a book's reading day, a task for each customer on the route at least
 * `minCycles` billing cycles behind, in route order, graded by cycles (the most behind first
 * within a grade only by route order: the reader walks the route).
 */
export function readingDayTasks(points: readonly ArrearsPoint[], minCycles: number): ArrearsPoint[] {
  assert(Number.isInteger(minCycles) && minCycles >= 1, 'minCycles is a whole number ≥ 1');
  return points.filter((p) => p.arrearsCycles >= minCycles && p.arrearsFen > 0).sort(compareBookOrder);
}

/** A visit that asks for another one: nobody was found, or the customer refused. */
export const REPEAT_OUTCOMES = ['refused', 'nobody_found'] as const;

/**
 * Collection-day rule, repeat visits: a customer whose last visit was refused or found nobody is
 * due again `repeatAfterDays` days later, while still in arrears. Returns the due date, or null when
 * the visit asks for no repeat.
 */
export function repeatVisitDueOn(
  lastVisit: { outcome: string; visitedOn: string },
  repeatAfterDays: number,
): string | null {
  assert(Number.isInteger(repeatAfterDays) && repeatAfterDays >= 1, 'repeat interval is at least a day');
  if (!(REPEAT_OUTCOMES as readonly string[]).includes(lastVisit.outcome)) return null;
  return addDays(lastVisit.visitedOn, repeatAfterDays);
}

export type TaskKind = 'reading_day' | 'collection_day' | 'repeat';

/**
 * Collection-day rule, carried work: a reading-day or earlier collection task left open (not
 * visited, not removed) is carried to the next collection day while the customer is still in
 * arrears and was not visited since.
 */
export function isCarriedOver(
  task: { taskDate: string; status: string },
  onDate: string,
  stillInArrears: boolean,
): boolean {
  return task.status === 'open' && task.taskDate < onDate && stillInArrears;
}
