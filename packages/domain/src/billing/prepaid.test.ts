import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  averageMonthlyFen,
  isPrepaidBalanceLow,
  prepaidArrearsFen,
  prepaidBalanceFen,
  prepaidDeductionFen,
  prepaidLowBalanceNoticeKey,
  prepaidLowBalanceText,
  prepaidLowBalanceThresholdFen,
  prepaidReversalFen,
  prepaidRunningBalances,
  validatePrepaidLoad,
} from './prepaid.ts';

describe('prepaid balance (the sum of the entries)', () => {
  it('adds loads, deductions and reversals', () => {
    expect(
      prepaidBalanceFen([
        { kind: 'load', amountFen: 10_000 },
        { kind: 'deduction', amountFen: -7_585 },
        { kind: 'reversal', amountFen: 7_585 },
        { kind: 'deduction', amountFen: -3_000 },
      ]),
    ).toBe(7_000);
    expect(prepaidBalanceFen([])).toBe(0);
  });

  it('refuses an entry whose sign does not match its kind', () => {
    expect(() => prepaidBalanceFen([{ kind: 'load', amountFen: -1 }])).toThrow(/wrong sign/);
    expect(() => prepaidBalanceFen([{ kind: 'deduction', amountFen: 5 }])).toThrow(/wrong sign/);
    expect(() => prepaidBalanceFen([{ kind: 'load', amountFen: 1.5 }])).toThrow(/wrong sign/);
  });

  it('running balance: each line is the opening plus every entry up to it; the last is the balance', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        fc.array(
          fc.oneof(
            fc.integer({ min: 1, max: 1_000_000 }).map((n) => ({ kind: 'load' as const, amountFen: n })),
            fc
              .integer({ min: 1, max: 1_000_000 })
              .map((n) => ({ kind: 'deduction' as const, amountFen: -n })),
          ),
          { maxLength: 40 },
        ),
        (opening, entries) => {
          const lines = prepaidRunningBalances(opening, entries);
          let sum = opening;
          lines.forEach((l, i) => {
            sum += entries[i]!.amountFen;
            expect(l.balanceAfterFen).toBe(sum);
          });
          expect(lines.at(-1)?.balanceAfterFen ?? opening).toBe(opening + prepaidBalanceFen(entries));
        },
      ),
    );
  });
});

describe('deduction rule: the whole bill, the balance may go below zero', () => {
  it('deducts the whole bill whatever the balance, and nothing for a zero bill', () => {
    expect(prepaidDeductionFen(7_585)).toBe(-7_585);
    expect(prepaidDeductionFen(0)).toBeNull();
    const balance = prepaidBalanceFen([
      { kind: 'load', amountFen: 5_000 },
      { kind: 'deduction', amountFen: prepaidDeductionFen(7_585)! },
    ]);
    expect(balance).toBe(-2_585);
    expect(prepaidArrearsFen(balance)).toBe(2_585);
    expect(prepaidArrearsFen(100)).toBe(0);
  });

  it('a reversal gives a deduction back exactly', () => {
    expect(prepaidReversalFen(-7_585)).toBe(7_585);
    expect(() => prepaidReversalFen(100)).toThrow();
  });

  it('refuses a negative or fractional bill', () => {
    expect(() => prepaidDeductionFen(-1)).toThrow();
    expect(() => prepaidDeductionFen(1.5)).toThrow();
  });
});

describe('load limits: whole fen above zero, at most prepaid.maxLoadFen', () => {
  it('accepts a load within the limit', () => {
    expect(validatePrepaidLoad(10_000, 1_000_000)).toEqual([]);
    expect(validatePrepaidLoad(1_000_000, 1_000_000)).toEqual([]);
  });

  it('refuses zero, negative, fractional, missing and too large, on the field, in both languages', () => {
    const codes = (v: unknown) => validatePrepaidLoad(v, 1_000_000).map((p) => `${p.path}:${p.code}`);
    expect(codes(0)).toEqual(['amountFen:AMOUNT_NOT_POSITIVE']);
    expect(codes(-100)).toEqual(['amountFen:AMOUNT_NOT_POSITIVE']);
    expect(codes(10.5)).toEqual(['amountFen:AMOUNT_NOT_WHOLE_FEN']);
    expect(codes('100')).toEqual(['amountFen:AMOUNT_NOT_NUMBER']);
    expect(codes(1_000_001)).toEqual(['amountFen:AMOUNT_ABOVE_MAX']);
    const [above] = validatePrepaidLoad(1_000_001, 1_000_000);
    expect(above!.messages['zh-CN']).toBe('单次充值不能超过 10000.00 元');
    expect(above!.messages.en).toBe('At most 10000.00 yuan can be loaded at once');
  });
});

describe('low balance: below the larger of a fixed amount and N months of average use', () => {
  it('averages a history, rounding half up once', () => {
    expect(averageMonthlyFen(10_001, 2)).toBe(5_001);
    expect(averageMonthlyFen(10_000, 3)).toBe(3_333);
    expect(averageMonthlyFen(0, 0)).toBe(0);
  });

  it('takes the larger of the fixed amount and the months of use', () => {
    expect(prepaidLowBalanceThresholdFen({ fixedFen: 5_000, months: 1, averageMonthlyFen: 7_585 })).toBe(
      7_585,
    );
    expect(prepaidLowBalanceThresholdFen({ fixedFen: 5_000, months: 1, averageMonthlyFen: 3_000 })).toBe(
      5_000,
    );
    expect(prepaidLowBalanceThresholdFen({ fixedFen: 5_000, months: 0, averageMonthlyFen: 99_999 })).toBe(
      5_000,
    );
    expect(prepaidLowBalanceThresholdFen({ fixedFen: 0, months: 1.5, averageMonthlyFen: 3_333 })).toBe(5_000);
  });

  it('is low below the threshold, not at it', () => {
    expect(isPrepaidBalanceLow(4_999, 5_000)).toBe(true);
    expect(isPrepaidBalanceLow(5_000, 5_000)).toBe(false);
    expect(isPrepaidBalanceLow(-1, 0)).toBe(true);
  });

  it('one notice a month: the key names the month', () => {
    expect(prepaidLowBalanceNoticeKey('2026-11')).toBe('prepaid_low:2026-11');
    expect(() => prepaidLowBalanceNoticeKey('2026-1')).toThrow();
  });

  it('words the SMS with the balance or the arrears', () => {
    const base = { utilityName: '供水有限公司', customerName: '王伟', customerCode: '010100000042' };
    expect(prepaidLowBalanceText({ ...base, balanceFen: 2_415 })).toBe(
      '【供水有限公司】尊敬的王伟：您的户号010100000042预付费账户余额24.15元，余额不足，请及时到营业厅或线上充值，以免影响使用。',
    );
    expect(prepaidLowBalanceText({ ...base, balanceFen: -2_585 })).toContain('已欠费25.85元');
  });
});
