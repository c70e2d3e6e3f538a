/**
 * Arrears ageing (DOMAIN.md §6: "arrears are aged in billing cycles"; docs/arrears.md). A meter in
 * arrears is aged by its oldest overdue unpaid bill, two ways:
 * - in billing cycles: a bill overdue by less than one of the meter's cycles (its book's zone: zone 0
 *   monthly, A/B every 2 months, C/D/E every 3) is 1 cycle behind, by one cycle or more 2, and so on
 *   — so with a 3-month cycle "more than two cycles behind" is "more than 6 months";
 * - in days overdue.
 * Both bucket edges are settings (collections.ageing.cycleEdges, collections.ageing.dayEdges).
 */
import { toUtc } from '../calendar/workingDays.ts';

/** The lower bounds of the cycle buckets: 1, 2, 3–5, 6+ (DOMAIN.md §6). */
export const DEFAULT_CYCLE_EDGES = '1,2,3,6';
/** The upper bounds of the day buckets: 0–30, 31–60, 61–90, 91–180, over 180. */
export const DEFAULT_DAY_EDGES = '30,60,90,180';

export type AgeingBasis = 'cycles' | 'days';

/**
 * Parses a setting's edges ("1,2,3,6"): whole numbers, strictly ascending, at least one. Returns
 * null when the text is not such a list (the caller falls back to the default and says so).
 */
export function parseEdges(text: string, min = 0): number[] | null {
  const parts = text.split(',').map((s) => s.trim());
  if (!parts.length || parts.some((p) => !/^\d+$/.test(p))) return null;
  const edges = parts.map(Number);
  for (let i = 0; i < edges.length; i++) {
    if (edges[i]! < min) return null;
    if (i > 0 && edges[i]! <= edges[i - 1]!) return null;
  }
  return edges;
}

/** The labels of the cycle buckets for lower bounds [1,2,3,6]: '1', '2', '3-5', '6+'. */
export function cycleBucketLabels(edges: readonly number[]): string[] {
  return edges.map((lo, i) => {
    const next = edges[i + 1];
    if (next === undefined) return `${lo}+`;
    return next - 1 === lo ? String(lo) : `${lo}-${next - 1}`;
  });
}

/** The labels of the day buckets for upper bounds [30,60,90,180]: '0-30', '31-60', …, '180+'. */
export function dayBucketLabels(edges: readonly number[]): string[] {
  const labels = edges.map((hi, i) => `${i === 0 ? 0 : edges[i - 1]! + 1}-${hi}`);
  labels.push(`${edges[edges.length - 1]}+`);
  return labels;
}

/** The cycle bucket of a meter `cycles` behind (below the first edge: the first bucket). */
export function cycleBucket(cycles: number, edges: readonly number[]): string {
  const labels = cycleBucketLabels(edges);
  let i = 0;
  while (i + 1 < edges.length && cycles >= edges[i + 1]!) i++;
  return labels[i]!;
}

/** The day bucket of a meter `days` overdue: at most the first edge → the first bucket, and so on. */
export function dayBucket(days: number, edges: readonly number[]): string {
  const labels = dayBucketLabels(edges);
  const i = edges.findIndex((hi) => days <= hi);
  return labels[i === -1 ? edges.length : i]!;
}

/** Days from `from` to `to` (positive when `to` is later). */
export function daysBetween(from: string, to: string): number {
  return Math.round((toUtc(to) - toUtc(from)) / 86_400_000);
}

/** Whole calendar months from `from` to `to`: 01-31 → 02-28 is 0, 01-31 → 03-01 is 1 (0 when `to` is earlier). */
export function wholeMonthsBetween(from: string, to: string): number {
  const [y1, m1, d1] = from.split('-').map(Number) as [number, number, number];
  const [y2, m2, d2] = to.split('-').map(Number) as [number, number, number];
  const months = (y2 - y1) * 12 + (m2 - m1) - (d2 < d1 ? 1 : 0);
  return Math.max(0, months);
}

/**
 * Billing cycles behind, of a meter whose oldest overdue unpaid bill fell due on `oldestDueOn`:
 * 1 while it is overdue by less than one cycle of `cycleMonths`, 2 from one cycle on, …
 * 0 when nothing is overdue yet (due today or later).
 */
export function cyclesBehind(oldestDueOn: string, today: string, cycleMonths: number): number {
  if (oldestDueOn >= today) return 0;
  const cycle = Math.max(1, Math.floor(cycleMonths));
  return 1 + Math.floor(wholeMonthsBetween(oldestDueOn, today) / cycle);
}

export interface AgeingEdges {
  cycles: number[];
  days: number[];
}

/** One meter (or a bill without a meter: its account) in arrears. */
export interface ArrearsItem {
  oldestDueOn: string;
  cycleMonths: number;
  owedFen: number;
}

export interface AgedItem {
  cycles: number;
  days: number;
  cycleBucket: string;
  dayBucket: string;
}

export function ageItem(item: ArrearsItem, today: string, edges: AgeingEdges): AgedItem {
  const cycles = cyclesBehind(item.oldestDueOn, today, item.cycleMonths);
  const days = Math.max(0, daysBetween(item.oldestDueOn, today));
  return {
    cycles,
    days,
    cycleBucket: cycleBucket(cycles, edges.cycles),
    dayBucket: dayBucket(days, edges.days),
  };
}

export interface AgeingBucketTotal {
  bucket: string;
  meters: number;
  owedFen: number;
}

/** Totals per bucket (every bucket listed, empty ones with zeros), in bucket order. */
export function ageingTotals(
  items: readonly ArrearsItem[],
  today: string,
  edges: AgeingEdges,
  basis: AgeingBasis,
): AgeingBucketTotal[] {
  const labels = basis === 'cycles' ? cycleBucketLabels(edges.cycles) : dayBucketLabels(edges.days);
  const totals = new Map(labels.map((l) => [l, { bucket: l, meters: 0, owedFen: 0 }]));
  for (const item of items) {
    if (item.oldestDueOn >= today || item.owedFen <= 0) continue;
    const aged = ageItem(item, today, edges);
    const t = totals.get(basis === 'cycles' ? aged.cycleBucket : aged.dayBucket)!;
    t.meters += 1;
    t.owedFen += item.owedFen;
  }
  return [...totals.values()];
}
