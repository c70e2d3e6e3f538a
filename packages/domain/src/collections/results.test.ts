import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  collectionRate,
  coverageMeasurable,
  customerCovered,
  dunningCoverage,
  monthlyCoverage,
  percent,
  ratio,
} from './results.ts';

describe('collection results', () => {
  it('covers a customer only when every due message was sent, at least the notice, and a visit when due', () => {
    const sent = { messagesDue: 2, messagesSent: 2 };
    expect(customerCovered({ bills: [sent], cyclesBehind: 1, visited: false }, 2)).toBe(true);
    expect(
      customerCovered(
        { bills: [sent, { messagesDue: 3, messagesSent: 2 }], cyclesBehind: 1, visited: false },
        2,
      ),
    ).toBe(false);
    expect(
      customerCovered({ bills: [{ messagesDue: 0, messagesSent: 0 }], cyclesBehind: 1, visited: false }, 2),
    ).toBe(false);
    expect(customerCovered({ bills: [sent], cyclesBehind: 2, visited: false }, 2)).toBe(false);
    expect(customerCovered({ bills: [sent], cyclesBehind: 2, visited: true }, 2)).toBe(true);
  });

  it('computes the rates, with nothing to measure as null rather than 100%', () => {
    expect(collectionRate(8_000, 10_000)).toBe(0.8);
    expect(collectionRate(12_000, 10_000)).toBe(1);
    expect(collectionRate(0, 0)).toBeNull();
    expect(dunningCoverage(3, 4)).toBe(0.75);
    expect(dunningCoverage(0, 0)).toBeNull();
    expect(ratio(1, 3)).toBeCloseTo(0.3333);
    expect(percent(0.98765)).toBe(98.8);
    expect(percent(null)).toBeNull();
  });
});

describe('coverage over time', () => {
  const p = (day: string, inArrears: number, covered: number, derived = false) => ({
    day,
    inArrears,
    covered,
    derived,
  });

  it('takes each month at its latest snapshot day (the month end), a month without one as no data', () => {
    const months = ['2026-08', '2026-09', '2026-10', '2026-11'];
    const out = monthlyCoverage(
      [
        p('2026-09-30', 40, 30, true),
        p('2026-09-15', 40, 40),
        p('2026-10-31', 50, 45),
        p('2026-10-01', 10, 1),
        p('2026-11-23', 20, 19),
        p('2026-12-01', 9, 9),
      ],
      months,
    );
    expect(out.map((m) => m.month)).toEqual(months);
    expect(out[0]).toEqual({
      month: '2026-08',
      day: null,
      inArrears: 0,
      covered: 0,
      rate: null,
      derived: false,
    });
    expect(out[1]).toMatchObject({
      day: '2026-09-30',
      inArrears: 40,
      covered: 30,
      rate: 0.75,
      derived: true,
    });
    expect(out[2]).toMatchObject({ day: '2026-10-31', rate: 0.9, derived: false });
    // The month under way: its latest day so far.
    expect(out[3]).toMatchObject({ day: '2026-11-23', inArrears: 20, covered: 19 });
  });

  it('a month-end with nobody in arrears has nothing to measure (null, not 100%)', () => {
    expect(monthlyCoverage([p('2026-10-31', 0, 0)], ['2026-10'])[0]).toMatchObject({
      day: '2026-10-31',
      rate: null,
    });
  });

  it('always picks the latest day of the month, whatever the order of the points', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 30 }),
        (days) => {
          const points = days.map((d) => p(`2026-11-${String(d).padStart(2, '0')}`, d + 1, d));
          const [m] = monthlyCoverage(points, ['2026-11']);
          const last = Math.max(...days);
          return m!.day === `2026-11-${String(last).padStart(2, '0')}` && m!.covered === last;
        },
      ),
    );
  });

  it('measures a day only from the first message meterline sent: before it, no data', () => {
    expect(coverageMeasurable('2026-10-31', null)).toBe(false);
    expect(coverageMeasurable('2026-10-31', '2026-11-01')).toBe(false);
    expect(coverageMeasurable('2026-11-01', '2026-11-01')).toBe(true);
    expect(coverageMeasurable('2026-11-30', '2026-11-01')).toBe(true);
  });
});
