import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  agreementNumber,
  installmentProgress,
  installmentSchedule,
  scheduleProblems,
} from './installments.ts';

describe('installment schedule', () => {
  it('splits the debt into equal monthly parts, the odd fen first', () => {
    expect(
      installmentSchedule({ debtFen: 10_001, count: 3, firstDueOn: '2026-01-31', intervalMonths: 1 }),
    ).toEqual([
      { seq: 1, dueOn: '2026-01-31', amountFen: 3334 },
      { seq: 2, dueOn: '2026-02-28', amountFen: 3334 },
      { seq: 3, dueOn: '2026-03-31', amountFen: 3333 },
    ]);
  });

  it('always sums exactly to the debt, every part positive, within one fen of the others, dates ascending', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 36 }),
        fc.integer({ min: 0, max: 50_000_000 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 28 }),
        (count, extra, interval, day) => {
          const debtFen = count + extra;
          const firstDueOn = `2026-12-${String(day).padStart(2, '0')}`;
          const s = installmentSchedule({ debtFen, count, firstDueOn, intervalMonths: interval });
          expect(s).toHaveLength(count);
          expect(s.reduce((a, i) => a + i.amountFen, 0)).toBe(debtFen);
          const amounts = s.map((i) => i.amountFen);
          expect(Math.min(...amounts)).toBeGreaterThan(0);
          expect(Math.max(...amounts) - Math.min(...amounts)).toBeLessThanOrEqual(1);
          for (let k = 1; k < s.length; k++) expect(s[k]!.dueOn > s[k - 1]!.dueOn).toBe(true);
          expect(
            scheduleProblems(s, debtFen, { today: '2026-12-01', maxInstallments: 36, maxMonths: 120 }),
          ).toEqual([]);
        },
      ),
    );
  });

  it('refuses a debt smaller than the number of parts', () => {
    expect(() =>
      installmentSchedule({ debtFen: 2, count: 3, firstDueOn: '2026-01-01', intervalMonths: 1 }),
    ).toThrow('DEBT_BELOW_COUNT');
  });

  it('finds what is wrong with a schedule written by hand', () => {
    const limits = { today: '2026-11-23', maxInstallments: 2, maxMonths: 3 };
    expect(
      scheduleProblems(
        [
          { seq: 1, dueOn: '2026-11-20', amountFen: 100 },
          { seq: 2, dueOn: '2026-11-20', amountFen: 0 },
          { seq: 3, dueOn: '2027-06-01', amountFen: 50 },
        ],
        200,
        limits,
      ).sort(),
    ).toEqual(
      [
        'AMOUNT_NOT_POSITIVE',
        'COUNT_OUT_OF_RANGE',
        'DATES_NOT_ASCENDING',
        'FIRST_BEFORE_TODAY',
        'LAST_TOO_LATE',
        'SUM_NOT_DEBT',
      ].sort(),
    );
  });
});

describe('installment progress and default', () => {
  const items = installmentSchedule({
    debtFen: 30_000,
    count: 3,
    firstDueOn: '2026-12-10',
    intervalMonths: 1,
  });

  it('counts payments against the installments in order', () => {
    const p = installmentProgress(items, 15_000, '2026-12-11', 10);
    expect(p.paidCount).toBe(1);
    expect(p.next).toMatchObject({ seq: 2, stillOwedFen: 5_000 });
    expect(p.missed).toBeNull();
    expect(p.completed).toBe(false);
  });

  it('misses an installment only after the grace days have passed', () => {
    expect(installmentProgress(items, 0, '2026-12-20', 10).missed).toBeNull();
    expect(installmentProgress(items, 0, '2026-12-21', 10).missed).toMatchObject({ seq: 1 });
    // Paid part of the first: still missed.
    expect(installmentProgress(items, 9_999, '2026-12-21', 10).missed).toMatchObject({ seq: 1 });
    // The first paid, the second's date + grace passed without it.
    expect(installmentProgress(items, 10_000, '2027-01-21', 10).missed).toMatchObject({ seq: 2 });
    expect(installmentProgress(items, 20_000, '2027-01-21', 10).missed).toBeNull();
  });

  it('completes when the whole debt is paid, and a completed agreement is never missed', () => {
    const p = installmentProgress(items, 30_000, '2030-01-01', 0);
    expect(p).toMatchObject({ paidCount: 3, next: null, missed: null, completed: true });
  });

  it('numbers agreements HQ + year + sequence', () => {
    expect(agreementNumber(2026, 12)).toBe('HQ2026-000012');
  });
});
