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
