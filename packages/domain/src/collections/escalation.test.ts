import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../platform/settings.ts';
import {
  collectionDocumentNumber,
  countableArrears,
  type EscalationHistory,
  escalationRules,
  letterDeadline,
  nextEscalationStep,
  type OverdueBill,
} from './escalation.ts';

const rules = escalationRules(DEFAULT_SETTINGS);
const bill = (billId: number, dueOn: string, outstandingFen: number, heldFen = 0): OverdueBill => ({
  billId,
  period: dueOn.slice(0, 7),
  dueOn,
  outstandingFen,
  heldFen,
});
const none: EscalationHistory = { formal: null, lawyer: null, shutoffRequested: false };

describe('collectionDocumentNumber ("numbered in sequence", per kind and year)', () => {
  it('formats prefix, year and a zero-padded sequence', () => {
    expect(collectionDocumentNumber('formal', 2026, 12)).toBe('CJ2026-000012');
    expect(collectionDocumentNumber('lawyer', 2027, 1)).toBe('LS2027-000001');
    expect(collectionDocumentNumber('restore', 2026, 999_999)).toBe('FS2026-999999');
  });
  it('refuses a sequence of zero or one that does not fit', () => {
    expect(() => collectionDocumentNumber('formal', 2026, 0)).toThrow();
    expect(() => collectionDocumentNumber('formal', 2026, 1_000_000)).toThrow();
  });
  it('consecutive sequences sort in issue order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_998 }), (n) => {
        expect(
          collectionDocumentNumber('shutoff', 2026, n) < collectionDocumentNumber('shutoff', 2026, n + 1),
        ).toBe(true);
      }),
    );
  });
});

describe('countableArrears ("a disputed amount is held out of escalation until decided")', () => {
  it('counts overdue bills only, oldest first, less what is held', () => {
    const a = countableArrears(
      [bill(3, '2026-09-10', 5_000), bill(1, '2026-07-10', 3_000, 1_000), bill(4, '2026-11-30', 9_000)],
      '2026-11-20',
    );
    expect(a.bills.map((b) => b.billId)).toEqual([1, 3]);
    expect(a.arrearsFen).toBe(2_000 + 5_000);
    expect(a.cycles).toBe(2);
    expect(a.oldestDueOn).toBe('2026-07-10');
    expect(a.months).toBe(4);
  });
  it('a bill wholly held counts neither as a cycle nor for its age', () => {
    const a = countableArrears(
      [bill(1, '2026-01-10', 3_000, 3_000), bill(2, '2026-10-10', 4_000)],
      '2026-11-20',
    );
    expect(a.cycles).toBe(1);
    expect(a.months).toBe(1);
    expect(a.arrearsFen).toBe(4_000);
  });
  it('never counts more than is outstanding nor less than zero (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            outstanding: fc.integer({ min: 0, max: 1_000_000 }),
            held: fc.integer({ min: 0, max: 1_000_000 }),
          }),
          { maxLength: 20 },
        ),
        (xs) => {
          const a = countableArrears(
            xs.map((x, i) => bill(i + 1, '2026-01-01', x.outstanding, x.held)),
            '2026-06-01',
          );
          const total = xs.reduce((s, x) => s + x.outstanding, 0);
          expect(a.arrearsFen).toBeGreaterThanOrEqual(0);
          expect(a.arrearsFen).toBeLessThanOrEqual(total);
          expect(a.arrearsFen).toBe(xs.reduce((s, x) => s + Math.max(0, x.outstanding - x.held), 0));
        },
      ),
    );
  });
});

describe('nextEscalationStep ("a formal collection letter → a lawyer\'s letter → shut-off")', () => {
  const today = '2026-11-20';
  const arrears = countableArrears([bill(1, '2026-09-01', 10_000)], today);

  it('starts with the formal letter once the arrears qualify', () => {
    expect(nextEscalationStep({ today, arrears, history: none }, rules)).toEqual({
      step: 'formal_letter',
      dueOn: today,
      due: true,
    });
  });
  it('nothing when not in arrears or below the threshold', () => {
    expect(nextEscalationStep({ today, arrears: countableArrears([], today), history: none }, rules)).toEqual(
      {
        step: null,
        reason: 'NOT_IN_ARREARS',
      },
    );
    const young = countableArrears([bill(1, '2026-11-01', 10_000)], today);
    expect(nextEscalationStep({ today, arrears: young, history: none }, rules)).toEqual({
      step: null,
      reason: 'BELOW_THRESHOLD',
    });
    const strict = escalationRules({ ...DEFAULT_SETTINGS, 'escalation.formal.minArrearsFen': 20_000 });
    expect(nextEscalationStep({ today, arrears, history: none }, strict)).toMatchObject({
      reason: 'BELOW_THRESHOLD',
    });
  });
  it('waits for the formal letter to be delivered, then the configured days', () => {
    const undelivered = { ...none, formal: { issuedOn: '2026-11-01', deliveredOn: null } };
    expect(nextEscalationStep({ today, arrears, history: undelivered }, rules)).toEqual({
      step: null,
      reason: 'AWAITING_DELIVERY',
    });
    const delivered = { ...none, formal: { issuedOn: '2026-11-01', deliveredOn: '2026-11-10' } };
    expect(nextEscalationStep({ today, arrears, history: delivered }, rules)).toEqual({
      step: 'lawyer_letter',
      dueOn: '2026-11-25',
      due: false,
    });
    expect(nextEscalationStep({ today: '2026-11-25', arrears, history: delivered }, rules)).toMatchObject({
      step: 'lawyer_letter',
      due: true,
    });
  });
  it('after the lawyer’s letter, the shut-off request; none above it', () => {
    const both: EscalationHistory = {
      formal: { issuedOn: '2026-10-01', deliveredOn: '2026-10-02' },
      lawyer: { issuedOn: '2026-11-01', deliveredOn: '2026-11-03' },
      shutoffRequested: false,
    };
    expect(nextEscalationStep({ today, arrears, history: both }, rules)).toEqual({
      step: 'shutoff_request',
      dueOn: '2026-11-10',
      due: true,
    });
    expect(
      nextEscalationStep({ today, arrears, history: { ...both, shutoffRequested: true } }, rules),
    ).toEqual({
      step: null,
      reason: 'AT_TOP',
    });
  });
});

describe('letterDeadline', () => {
  it('is the configured days after issue', () => {
    expect(letterDeadline('2026-12-28', DEFAULT_SETTINGS['escalation.letterDeadlineDays'])).toBe(
      '2027-01-04',
    );
  });
});
