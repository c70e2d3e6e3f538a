import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ageingTotals,
  cycleBucket,
  cycleBucketLabels,
  cyclesBehind,
  DEFAULT_CYCLE_EDGES,
  DEFAULT_DAY_EDGES,
  dayBucket,
  dayBucketLabels,
  parseEdges,
  wholeMonthsBetween,
} from './ageing.ts';

const cycles = parseEdges(DEFAULT_CYCLE_EDGES, 1)!;
const days = parseEdges(DEFAULT_DAY_EDGES)!;

describe('ageing edges', () => {
  it('parses ascending whole numbers and refuses anything else', () => {
    expect(cycles).toEqual([1, 2, 3, 6]);
    expect(days).toEqual([30, 60, 90, 180]);
    expect(parseEdges('1,1,3')).toBeNull();
    expect(parseEdges('3,2')).toBeNull();
    expect(parseEdges('1,x')).toBeNull();
    expect(parseEdges('0,2', 1)).toBeNull();
    expect(parseEdges('')).toBeNull();
  });

  it('labels the buckets of DOMAIN.md: 1, 2, 3–5, 6+ cycles and 0–30 … 180+ days', () => {
    expect(cycleBucketLabels(cycles)).toEqual(['1', '2', '3-5', '6+']);
    expect(dayBucketLabels(days)).toEqual(['0-30', '31-60', '61-90', '91-180', '180+']);
  });

  it('puts each count on the right side of every edge', () => {
    expect([1, 2, 3, 5, 6, 40].map((c) => cycleBucket(c, cycles))).toEqual([
      '1',
      '2',
      '3-5',
      '3-5',
      '6+',
      '6+',
    ]);
    expect([1, 30, 31, 60, 61, 90, 91, 180, 181].map((d) => dayBucket(d, days))).toEqual([
      '0-30',
      '0-30',
      '31-60',
      '31-60',
      '61-90',
      '61-90',
      '91-180',
      '91-180',
      '180+',
    ]);
  });
});

describe('cycles behind', () => {
  it('counts whole months, the day of the month deciding', () => {
    expect(wholeMonthsBetween('2026-01-31', '2026-02-28')).toBe(0);
    expect(wholeMonthsBetween('2026-01-31', '2026-03-01')).toBe(1);
    expect(wholeMonthsBetween('2026-01-15', '2026-07-15')).toBe(6);
    expect(wholeMonthsBetween('2026-01-15', '2026-07-14')).toBe(5);
    expect(wholeMonthsBetween('2026-05-01', '2026-04-01')).toBe(0);
  });

  it('ages by the zone’s cycle: 3-month cycle, more than 6 months overdue is 3 cycles', () => {
    expect(cyclesBehind('2026-11-23', '2026-11-23', 3)).toBe(0);
    expect(cyclesBehind('2026-11-22', '2026-11-23', 3)).toBe(1);
    expect(cyclesBehind('2026-08-24', '2026-11-23', 3)).toBe(1);
    expect(cyclesBehind('2026-08-23', '2026-11-23', 3)).toBe(2);
    expect(cyclesBehind('2026-05-23', '2026-11-23', 3)).toBe(3);
    // Monthly (zone 0) and two-monthly (A/B) cycles.
    expect(cyclesBehind('2026-08-23', '2026-11-23', 1)).toBe(4);
    expect(cyclesBehind('2026-08-23', '2026-11-23', 2)).toBe(2);
  });

  it('never decreases as time passes, and a longer cycle never ages faster', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 1, max: 3 }),
        (offset, more, cycle) => {
          const due = new Date(Date.UTC(2024, 0, 1) + offset * 86_400_000).toISOString().slice(0, 10);
          const t1 = new Date(Date.UTC(2024, 0, 2) + (offset + 30) * 86_400_000).toISOString().slice(0, 10);
          const t2 = new Date(Date.UTC(2024, 0, 2) + (offset + 30 + more) * 86_400_000)
            .toISOString()
            .slice(0, 10);
          expect(cyclesBehind(due, t2, cycle)).toBeGreaterThanOrEqual(cyclesBehind(due, t1, cycle));
          expect(cyclesBehind(due, t1, cycle + 1)).toBeLessThanOrEqual(cyclesBehind(due, t1, cycle));
          expect(cyclesBehind(due, t1, cycle)).toBeGreaterThanOrEqual(1);
        },
      ),
    );
  });
});

describe('ageing totals', () => {
  const today = '2026-11-23';
  const items = [
    { oldestDueOn: '2026-11-01', cycleMonths: 3, owedFen: 1000 },
    { oldestDueOn: '2026-08-01', cycleMonths: 3, owedFen: 2000 },
    { oldestDueOn: '2026-08-01', cycleMonths: 1, owedFen: 3000 },
    { oldestDueOn: '2025-01-01', cycleMonths: 3, owedFen: 4000 },
    // Not overdue yet, or nothing owed: not in arrears.
    { oldestDueOn: '2026-11-23', cycleMonths: 3, owedFen: 5000 },
    { oldestDueOn: '2026-01-01', cycleMonths: 3, owedFen: 0 },
  ];

  it('counts meters and sums fen per cycle bucket, listing empty buckets', () => {
    expect(ageingTotals(items, today, { cycles, days }, 'cycles')).toEqual([
      { bucket: '1', meters: 1, owedFen: 1000 },
      { bucket: '2', meters: 1, owedFen: 2000 },
      { bucket: '3-5', meters: 1, owedFen: 3000 },
      { bucket: '6+', meters: 1, owedFen: 4000 },
    ]);
  });

  it('and per day bucket', () => {
    expect(ageingTotals(items, today, { cycles, days }, 'days')).toEqual([
      { bucket: '0-30', meters: 1, owedFen: 1000 },
      { bucket: '31-60', meters: 0, owedFen: 0 },
      { bucket: '61-90', meters: 0, owedFen: 0 },
      { bucket: '91-180', meters: 2, owedFen: 5000 },
      { bucket: '180+', meters: 1, owedFen: 4000 },
    ]);
  });

  it('adds up to the whole whatever the edges', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 6 }),
        fc.array(
          fc.record({ age: fc.integer({ min: 1, max: 900 }), owed: fc.integer({ min: 1, max: 10_000 }) }),
        ),
        (edgesRaw, raw) => {
          const dayEdges = [...edgesRaw].sort((a, b) => a - b);
          const list = raw.map((r) => ({
            oldestDueOn: new Date(Date.UTC(2026, 10, 23) - r.age * 86_400_000).toISOString().slice(0, 10),
            cycleMonths: 2,
            owedFen: r.owed,
          }));
          const totals = ageingTotals(list, today, { cycles, days: dayEdges }, 'days');
          expect(totals).toHaveLength(dayEdges.length + 1);
          expect(totals.reduce((s, t) => s + t.meters, 0)).toBe(list.length);
          expect(totals.reduce((s, t) => s + t.owedFen, 0)).toBe(list.reduce((s, i) => s + i.owedFen, 0));
        },
      ),
    );
  });
});
