import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../calendar/workingDays.ts';
import {
  LATE_FEE_AGEING_DAYS,
  lateFeeAccrualFen,
  lateFeeAgeingBucket,
  lateFeeDays,
  lateFeeFen,
  validateLateFeeWaiver,
} from './lateFee.ts';
import { FEE_KINDS, otherChargeAmount, validateFeeCatalogueEntry } from './otherCharge.ts';

describe('lateFeeDays: calendar days after the due date and the grace', () => {
  it('is 0 on and before the due date, 1 the day after', () => {
    expect(lateFeeDays('2026-11-30', '2026-11-29', 0)).toBe(0);
    expect(lateFeeDays('2026-11-30', '2026-11-30', 0)).toBe(0);
    expect(lateFeeDays('2026-11-30', '2026-12-01', 0)).toBe(1);
    expect(lateFeeDays('2026-11-30', '2027-01-01', 0)).toBe(32);
  });

  it('never charges the grace days, even once the grace has run out', () => {
    expect(lateFeeDays('2026-11-30', '2026-12-05', 5)).toBe(0);
    expect(lateFeeDays('2026-11-30', '2026-12-06', 5)).toBe(1);
  });

  it('counts calendar days across a leap day', () => {
    expect(lateFeeDays('2028-02-28', '2028-03-01', 0)).toBe(2);
  });
});

describe('lateFeeFen: "逾期按日加收千分之三滞纳金"', () => {
  const base = { unpaidFen: 10_000, dueOn: '2026-11-30', ratePerDay: '0.003', graceDays: 0, capRatio: 1 };

  it('is unpaid × rate × days: 100 yuan 10 days late at 3‰ is 3 yuan', () => {
    expect(lateFeeFen({ ...base, asOf: '2026-12-10' })).toEqual({
      days: 10,
      feeFen: 300,
      capFen: 10_000,
      capped: false,
    });
  });

  it('rounds half-up once, on the total, not per day', () => {
    // 75.85 yuan × 0.003 = 22.755 fen a day: per day rounded it would be 23 × 2 = 46; once: 45.51 → 46,
    // and over 3 days 68.265 → 68 (per day: 69).
    const one = { ...base, unpaidFen: 7585 };
    expect(lateFeeFen({ ...one, asOf: '2026-12-01' }).feeFen).toBe(23);
    expect(lateFeeFen({ ...one, asOf: '2026-12-03' }).feeFen).toBe(68);
    // 0.5 fen rounds up: 500 fen × 0.001 × 1 day = 0.5 → 1.
    expect(lateFeeFen({ ...base, unpaidFen: 500, ratePerDay: 0.001, asOf: '2026-12-01' }).feeFen).toBe(1);
  });

  it('never exceeds the cap (1 × principal by default), and has none when the cap is null', () => {
    const late = { ...base, asOf: '2028-01-01' };
    expect(lateFeeFen(late)).toMatchObject({ feeFen: 10_000, capped: true });
    expect(lateFeeFen({ ...late, capRatio: '0.5' })).toMatchObject({ feeFen: 5_000, capped: true });
    expect(lateFeeFen({ ...late, capRatio: null }).feeFen).toBe(
      10_000 * 0.003 * lateFeeDays(base.dueOn, late.asOf, 0),
    );
  });

  it('is 0 on nothing unpaid or a zero rate', () => {
    expect(lateFeeFen({ ...base, unpaidFen: 0, asOf: '2027-06-01' }).feeFen).toBe(0);
    expect(lateFeeFen({ ...base, ratePerDay: 0, asOf: '2027-06-01' }).feeFen).toBe(0);
  });

  it('refuses negative or fractional inputs', () => {
    expect(() => lateFeeFen({ ...base, unpaidFen: -1, asOf: '2026-12-10' })).toThrow();
    expect(() => lateFeeFen({ ...base, unpaidFen: 1.5, asOf: '2026-12-10' })).toThrow();
    expect(() => lateFeeFen({ ...base, ratePerDay: '-0.001', asOf: '2026-12-10' })).toThrow();
    expect(() => lateFeeFen({ ...base, graceDays: -1, asOf: '2026-12-10' })).toThrow();
  });
});

describe('lateFeeFen properties', () => {
  const dayArb = fc.integer({ min: 0, max: 800 }).map((n) => addDays('2026-01-01', n));
  const inputArb = fc.record({
    unpaidFen: fc.integer({ min: 0, max: 5_000_000 }),
    dueOn: dayArb,
    ratePerDay: fc.integer({ min: 0, max: 100 }).map((n) => (n / 10_000).toString()),
    graceDays: fc.integer({ min: 0, max: 30 }),
    capRatio: fc.option(
      fc.integer({ min: 0, max: 300 }).map((n) => (n / 100).toString()),
      { nil: null },
    ),
  });

  it('is monotonic in asOf', () => {
    fc.assert(
      fc.property(inputArb, dayArb, fc.integer({ min: 0, max: 400 }), (input, asOf, more) => {
        const a = lateFeeFen({ ...input, asOf }).feeFen;
        const b = lateFeeFen({ ...input, asOf: addDays(asOf, more) }).feeFen;
        expect(b).toBeGreaterThanOrEqual(a);
      }),
    );
  });

  it('is zero within the grace', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const within = fc.sample(fc.integer({ min: -5, max: input.graceDays }), 1)[0]!;
        expect(lateFeeFen({ ...input, asOf: addDays(input.dueOn, within) }).feeFen).toBe(0);
      }),
    );
  });

  it('never exceeds the cap', () => {
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 0, max: 2_000 }), (input, after) => {
        const fee = lateFeeFen({ ...input, asOf: addDays(input.dueOn, after) });
        if (input.capRatio !== null)
          expect(fee.feeFen).toBeLessThanOrEqual(Math.round(input.unpaidFen * Number(input.capRatio)) + 1);
        if (fee.capFen !== null) expect(fee.feeFen).toBeLessThanOrEqual(fee.capFen);
      }),
    );
  });

  it('daily accruals add up to the fee at the end, each ≥ 0', () => {
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 0, max: 120 }), (input, span) => {
        let sum = 0;
        let day = input.dueOn;
        for (let i = 0; i < span + input.graceDays; i++) {
          const next = addDays(day, 1);
          const accrual = lateFeeAccrualFen(input, day, next);
          expect(accrual).toBeGreaterThanOrEqual(0);
          sum += accrual;
          day = next;
        }
        expect(sum).toBe(lateFeeFen({ ...input, asOf: day }).feeFen);
      }),
      { numRuns: 60 },
    );
  });
});

describe('validateLateFeeWaiver', () => {
  it('takes part or all of what is owed, with a reason', () => {
    expect(
      validateLateFeeWaiver({ accruedFen: 500, waivedFen: 100, amountFen: 400, reason: '困难户' }),
    ).toEqual([]);
  });
  it('refuses more than is owed, nothing, and no reason', () => {
    expect(validateLateFeeWaiver({ accruedFen: 500, waivedFen: 100, amountFen: 401, reason: ' ' })).toEqual([
      { path: 'amountFen', code: 'WAIVER_ABOVE_OWED', data: { owedFen: 400 } },
      { path: 'reason', code: 'WAIVER_REASON', data: {} },
    ]);
    expect(validateLateFeeWaiver({ accruedFen: 500, waivedFen: 0, amountFen: 0, reason: 'x' })[0]?.code).toBe(
      'WAIVER_AMOUNT',
    );
    expect(validateLateFeeWaiver({ accruedFen: 0, waivedFen: 0, amountFen: 1, reason: 'x' })[0]?.code).toBe(
      'WAIVER_NOTHING_OWED',
    );
  });
});

describe('lateFeeAgeingBucket', () => {
  it('puts days into 1–30, 31–90, 91–180, 181–365 and over', () => {
    expect([1, 30, 31, 90, 91, 180, 181, 365, 366].map(lateFeeAgeingBucket)).toEqual([
      0, 0, 1, 1, 2, 2, 3, 3, 4,
    ]);
    expect(LATE_FEE_AGEING_DAYS.length).toBe(4);
  });
});

describe('other charges', () => {
  const fee = {
    code: 'ACCOUNT_OPEN',
    name: { 'zh-CN': '开户费', en: 'Account opening' },
    kind: 'account_opening' as const,
    defaultAmountFen: 2000,
    taxable: false,
    active: true,
  };

  it('validates catalogue entries field by field', () => {
    expect(validateFeeCatalogueEntry(fee)).toEqual([]);
    expect(
      validateFeeCatalogueEntry({
        ...fee,
        code: '1x',
        name: { 'zh-CN': ' ', en: '' },
        defaultAmountFen: -1,
      }).map((p) => `${p.path}:${p.code}`),
    ).toEqual([
      'code:FEE_CODE_FORMAT',
      'name.zh-CN:FEE_NAME_REQUIRED',
      'name.en:FEE_NAME_REQUIRED',
      'defaultAmountFen:FEE_AMOUNT',
    ]);
    expect(validateFeeCatalogueEntry({ ...fee, defaultAmountFen: 12.5 })[0]?.code).toBe('FEE_AMOUNT');
    expect(FEE_KINDS).toContain('deposit');
  });

  it('prices a charge from the catalogue default or the amount entered, times the quantity', () => {
    expect(otherChargeAmount({ fee })).toEqual({ ok: true, unitFen: 2000, quantity: 1, totalFen: 2000 });
    expect(otherChargeAmount({ fee, amountFen: 1500, quantity: 3 })).toMatchObject({ totalFen: 4500 });
  });

  it('needs an amount above 0 when the catalogue has none, and a sensible quantity', () => {
    const open = { defaultAmountFen: null };
    expect(otherChargeAmount({ fee: open })).toEqual({
      ok: false,
      problems: [{ path: 'amountFen', code: 'CHARGE_AMOUNT_REQUIRED', data: {} }],
    });
    expect(otherChargeAmount({ fee: open, amountFen: 0 })).toMatchObject({
      ok: false,
      problems: [{ code: 'CHARGE_AMOUNT' }],
    });
    expect(otherChargeAmount({ fee, quantity: 0 })).toMatchObject({
      ok: false,
      problems: [{ code: 'CHARGE_QUANTITY' }],
    });
  });
});
