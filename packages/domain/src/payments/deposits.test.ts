import { describe, expect, it } from 'vitest';
import {
  addMonths,
  DEPOSIT_DEFAULTS,
  depositMonths,
  depositRefundRefusal,
  depositRequiredFen,
} from './deposits.ts';

describe('depositRequiredFen ("large individual users pay 3 months\' charges; developer transfers 3 billing cycles; one-household-one-meter one month")', () => {
  it('months per kind from the settings', () => {
    expect(depositMonths('large_user')).toBe(3);
    expect(depositMonths('developer')).toBe(3);
    expect(depositMonths('household')).toBe(1);
    expect(depositMonths('household', { ...DEPOSIT_DEFAULTS, householdMonths: 2 })).toBe(2);
  });
  it('months × average monthly charge, rounded up to whole yuan', () => {
    expect(depositRequiredFen('large_user', 12_345)).toBe(37_100); // 370.35 → 371 yuan
    expect(depositRequiredFen('household', 8_600)).toBe(8_600); // already whole yuan
    expect(depositRequiredFen('household', 8_601)).toBe(8_700);
    expect(depositRequiredFen('developer', 1)).toBe(100);
  });
  it('zero history asks nothing', () => {
    expect(depositRequiredFen('large_user', 0)).toBe(0);
  });
  it('refuses a negative or fractional average', () => {
    expect(() => depositRequiredFen('large_user', -1)).toThrow(/whole fen/);
    expect(() => depositRequiredFen('large_user', 1.5)).toThrow(/whole fen/);
  });
});

describe('depositRefundRefusal ("refunded after one year of normal payment"; household "refunded within a month of supply")', () => {
  const account = { today: '2026-11-23', billed: true, arrearsFen: 0, lateFeeDueSince: null };
  const held = (kind: 'large_user' | 'developer' | 'household', heldSince = '2025-11-01') =>
    ({ kind, status: 'held', heldSince }) as const;

  it('only a held deposit can be refunded', () => {
    expect(depositRefundRefusal({ ...held('household'), status: 'refunded' }, account)).toBe('NOT_HELD');
    expect(depositRefundRefusal({ ...held('large_user'), status: 'applied' }, account)).toBe('NOT_HELD');
  });
  it('large user: not before a year held', () => {
    expect(depositRefundRefusal(held('large_user', '2026-01-01'), account)).toBe('NOT_YET_A_YEAR');
    expect(depositRefundRefusal(held('large_user', '2025-11-23'), account)).toBeNull(); // exactly a year
    expect(depositRefundRefusal(held('large_user', '2025-11-24'), account)).toBe('NOT_YET_A_YEAR');
  });
  it('large user: a late fee on a bill due in the last year blocks the refund, an older one does not', () => {
    expect(depositRefundRefusal(held('large_user'), { ...account, lateFeeDueSince: '2026-03-15' })).toBe(
      'LATE_PAYMENT_IN_YEAR',
    );
    expect(
      depositRefundRefusal(held('large_user'), { ...account, lateFeeDueSince: '2025-10-15' }),
    ).toBeNull();
  });
  it('household: once supply has started (the account has a bill)', () => {
    expect(depositRefundRefusal(held('household'), { ...account, billed: false })).toBe('NO_SUPPLY_YET');
    expect(depositRefundRefusal(held('household'), account)).toBeNull();
  });
  it('developer: once the account owes nothing', () => {
    expect(depositRefundRefusal(held('developer'), { ...account, arrearsFen: 1 })).toBe('ARREARS');
    expect(depositRefundRefusal(held('developer'), account)).toBeNull();
  });
});

describe('addMonths', () => {
  it("keeps the day or takes the month's last day, across years both ways", () => {
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2024-01-31', 1)).toBe('2024-02-29');
    expect(addMonths('2026-11-23', 12)).toBe('2027-11-23');
    expect(addMonths('2026-01-15', -1)).toBe('2025-12-15');
    expect(addMonths('2026-03-31', -13)).toBe('2025-02-28');
  });
});
