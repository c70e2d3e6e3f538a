/**
 * Collection results (DOMAIN.md §3 "four standards", §6; docs/arrears.md "Results"):
 * - dunning coverage (催缴覆盖率, target 100%): of the customers in arrears, the share who received
 *   every dunning step due to them — every notice or dunning message about their overdue bills that
 *   came due (not cancelled because the bill was paid) was sent, and, once a customer is
 *   `visitFromCycles` cycles behind, a field visit was recorded since their oldest overdue bill fell
 *   due;
 * - collection rate (回收率): of the amount billed for a period, the share collected.
 */

export interface CoverageBill {
  /** Messages about this bill (purpose notice or dunning) that came due and were not cancelled. */
  messagesDue: number;
  /** Of those, the ones sent or delivered. */
  messagesSent: number;
}

export interface CoverageCustomer {
  bills: readonly CoverageBill[];
  cyclesBehind: number;
  /** A collection visit recorded since the oldest overdue bill fell due. */
  visited: boolean;
}

/**
 * Whether a customer in arrears got every step due: each overdue bill had at least its notice (the
 * day +1 step is always due) and every message that came due was sent; from `visitFromCycles`
 * cycles behind, a visit too.
 */
export function customerCovered(c: CoverageCustomer, visitFromCycles: number): boolean {
  for (const b of c.bills) {
    if (b.messagesDue < 1 || b.messagesSent < b.messagesDue) return false;
  }
  if (c.cyclesBehind >= visitFromCycles && !c.visited) return false;
  return true;
}

/** part ÷ whole, or null when the whole is zero (nothing to measure: shown as "—", never 100%). */
export function ratio(part: number, whole: number): number | null {
  if (whole <= 0) return null;
  return part / whole;
}

/** 回收率: collected ÷ billed for the bills of a period (cancelled bills excluded by the caller). */
export function collectionRate(collectedFen: number, billedFen: number): number | null {
  return ratio(Math.min(collectedFen, billedFen), billedFen);
}

/** Dunning coverage: covered customers ÷ customers in arrears. */
export function dunningCoverage(covered: number, inArrears: number): number | null {
  return ratio(covered, inArrears);
}

/** A percentage for display, one decimal: 0.98765 → 98.8. */
export function percent(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 10;
}

// ---------------------------------------------------------------- coverage over time

/** One day's dunning coverage (recorded, or reconstructed when `derived`), summed over a scope. */
export interface CoveragePoint {
  day: string;
  inArrears: number;
  covered: number;
  derived: boolean;
}

/** A month's coverage: its month-end figure, or no data (`day` null, rate null). */
export interface MonthCoverage {
  month: string;
  /** The snapshot day the figure is of: the month's last day once the month is over. */
  day: string | null;
  inArrears: number;
  covered: number;
  rate: number | null;
  derived: boolean;
}

/**
 * Coverage per month (docs/arrears.md "Coverage over time"): the month-end figure — the month's
 * latest snapshot day (the last day of a finished month; for the month under way, the latest day
 * so far). A month without any snapshot has no data: null, never a figure made up.
 */
export function monthlyCoverage(
  points: readonly CoveragePoint[],
  months: readonly string[],
): MonthCoverage[] {
  const last = new Map<string, CoveragePoint>();
  for (const p of points) {
    const month = p.day.slice(0, 7);
    const seen = last.get(month);
    if (!seen || p.day > seen.day) last.set(month, p);
  }
  return months.map((month) => {
    const p = last.get(month);
    if (!p) return { month, day: null, inArrears: 0, covered: 0, rate: null, derived: false };
    return {
      month,
      day: p.day,
      inArrears: p.inArrears,
      covered: p.covered,
      rate: dunningCoverage(p.covered, p.inArrears),
      derived: p.derived,
    };
  });
}

/**
 * Whether a day's coverage can be measured from meterline's own records: only from the day its
 * first notice or dunning message came due. Before that the dunning (if any) happened outside
 * meterline, so the day has no data rather than a coverage of 0%.
 */
export function coverageMeasurable(day: string, firstMessageDay: string | null): boolean {
  return firstMessageDay !== null && day >= firstMessageDay;
}
