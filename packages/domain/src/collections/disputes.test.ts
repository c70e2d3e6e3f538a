import { describe, expect, it } from 'vitest';
import {
  DISPUTE_CATEGORIES,
  disputedAmountProblems,
  disputeTransition,
  disputeUndecided,
} from './disputes.ts';

describe('disputes', () => {
  it('has the closed classification of the issue', () => {
    expect(DISPUTE_CATEGORIES).toEqual(['reading', 'tariff', 'meter_fault', 'leak', 'ownership', 'other']);
  });

  it('holds while open or passed on, and decided disputes do not change', () => {
    expect(disputeUndecided('open')).toBe(true);
    expect(disputeUndecided('passed_on')).toBe(true);
    expect(disputeUndecided('upheld')).toBe(false);
    expect(disputeUndecided('rejected')).toBe(false);
    expect(disputeTransition('open', 'pass_on')).toBe('passed_on');
    expect(disputeTransition('open', 'uphold')).toBe('upheld');
    expect(disputeTransition('open', 'reject')).toBe('rejected');
    expect(disputeTransition('passed_on', 'pass_on')).toBeNull();
    expect(disputeTransition('passed_on', 'reject')).toBe('rejected');
    expect(disputeTransition('upheld', 'reject')).toBeNull();
    expect(disputeTransition('rejected', 'pass_on')).toBeNull();
  });

  it('refuses an amount above what the bill owes, zero, a settled bill, a bill twice', () => {
    const p = disputedAmountProblems([
      { billId: 1, outstandingFen: 1000, disputedFen: 1000 },
      { billId: 2, outstandingFen: 1000, disputedFen: 1001 },
      { billId: 3, outstandingFen: 1000, disputedFen: 0 },
      { billId: 4, outstandingFen: 0, disputedFen: 10 },
      { billId: 1, outstandingFen: 1000, disputedFen: 5 },
    ]);
    expect([...p.entries()]).toEqual([
      [1, 'ABOVE_OUTSTANDING'],
      [2, 'AMOUNT_NOT_POSITIVE'],
      [3, 'BILL_SETTLED'],
      [4, 'BILL_DUPLICATE'],
    ]);
  });
});
