import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lateFeeFen } from '../billing/lateFee.ts';
import type { DomainError } from '../platform/errors.ts';
import {
  allocatePayment,
  compareOpenItems,
  type OpenItem,
  PAYMENT_LIMIT_DEFAULTS,
  paymentLimitCheck,
  splitTotalFen,
} from './allocation.ts';

function refused(f: () => unknown): DomainError {
  try {
    f();
  } catch (e) {
    return e as DomainError;
  }
  throw new Error('accepted');
}

/**
 * A household with three monthly water bills unpaid on 2026-03-27.
 * The oldest is 40 days overdue: 3‰ a day after 15 days' grace on 86.40 yuan = 25 days × 25.92 fen
 * = 6.48 yuan late fee. The second is 12 days overdue, inside the grace: no fee yet.
 */
const FEE = lateFeeFen({
  unpaidFen: 8_640,
  dueOn: '2026-02-15',
  asOf: '2026-03-27',
  ratePerDay: '0.003',
  graceDays: 15,
}).feeFen;
const THREE_BILLS: OpenItem[] = [
  // Loaded in no particular order: the allocation sorts them.
  { billId: 'B2026-03', dueOn: '2026-04-15', issuedOn: '2026-03-16', unpaidFen: 9_105, lateFeeFen: 0 },
  { billId: 'B2026-01', dueOn: '2026-02-15', issuedOn: '2026-01-16', unpaidFen: 8_640, lateFeeFen: FEE },
  { billId: 'B2026-02', dueOn: '2026-03-15', issuedOn: '2026-02-13', unpaidFen: 7_290, lateFeeFen: 0 },
];

describe('allocatePayment (销账: oldest bill first, late fee before principal)', () => {
  it('the worked example: three bills and a late fee, 200 yuan at the counter', () => {
    expect(FEE).toBe(648);
    const split = allocatePayment({ amountFen: 20_000, items: THREE_BILLS, lateFeesFirst: true });
    // 6.48 + 86.40 settle January, 72.90 settles February, the last 34.22 goes to March.
    expect(split).toEqual({
      allocations: [
        { billId: 'B2026-01', principalFen: 8_640, lateFeeFen: 648 },
        { billId: 'B2026-02', principalFen: 7_290, lateFeeFen: 0 },
        { billId: 'B2026-03', principalFen: 3_422, lateFeeFen: 0 },
      ],
      creditFen: 0,
    });
    expect(splitTotalFen(split)).toBe(20_000);
  });

  it('a partial payment pays the late fee first under the common rule, the principal first otherwise', () => {
    expect(allocatePayment({ amountFen: 5_000, items: THREE_BILLS, lateFeesFirst: true })).toEqual({
      allocations: [{ billId: 'B2026-01', principalFen: 4_352, lateFeeFen: 648 }],
      creditFen: 0,
    });
    expect(allocatePayment({ amountFen: 5_000, items: THREE_BILLS, lateFeesFirst: false })).toEqual({
      allocations: [{ billId: 'B2026-01', principalFen: 5_000, lateFeeFen: 0 }],
      creditFen: 0,
    });
  });

  it('an overpayment settles everything and leaves the rest as credit (预存)', () => {
    // 256.83 yuan owed; 300 yuan paid: 43.17 yuan credit.
    const split = allocatePayment({ amountFen: 30_000, items: THREE_BILLS, lateFeesFirst: true });
    expect(split.allocations.map((a) => [a.billId, a.principalFen, a.lateFeeFen])).toEqual([
      ['B2026-01', 8_640, 648],
      ['B2026-02', 7_290, 0],
      ['B2026-03', 9_105, 0],
    ]);
    expect(split.creditFen).toBe(4_317);
    // Nothing owed at all: the whole payment is credit.
    expect(allocatePayment({ amountFen: 10_000, items: [], lateFeesFirst: true })).toEqual({
      allocations: [],
      creditFen: 10_000,
    });
  });

  it('orders bills due the same day by bill number', () => {
    const items: OpenItem[] = [
      { billId: 'B2', dueOn: '2026-01-31', unpaidFen: 100, lateFeeFen: 0 },
      { billId: 'B1', dueOn: '2026-01-31', unpaidFen: 100, lateFeeFen: 0 },
    ];
    expect(allocatePayment({ amountFen: 150, items, lateFeesFirst: true }).allocations).toEqual([
      { billId: 'B1', principalFen: 100, lateFeeFen: 0 },
      { billId: 'B2', principalFen: 50, lateFeeFen: 0 },
    ]);
  });

  it('refuses an amount that is not whole fen above zero, with a field error in both languages', () => {
    for (const amountFen of [0, -100, 12.5, Number.NaN, 2 ** 53]) {
      const e = refused(() => allocatePayment({ amountFen, items: THREE_BILLS, lateFeesFirst: true }));
      expect(e.code).toBe('PAYMENT_INVALID');
      expect(e.fieldErrorsIn('en').map((f) => f.path)).toEqual(['amountFen']);
    }
    const zero = refused(() => allocatePayment({ amountFen: 0, items: [], lateFeesFirst: true }));
    expect(zero.messageIn('zh-CN')).toBe('收费信息有误，未入账');
    expect(zero.fieldErrorsIn('zh-CN')).toEqual([
      { path: 'amountFen', code: 'AMOUNT_NOT_POSITIVE', message: '金额必须大于 0' },
    ]);
    expect(zero.fieldErrorsIn('en')[0]!.message).toBe('The amount must be more than zero');
    const fraction = refused(() => allocatePayment({ amountFen: 12.5, items: [], lateFeesFirst: true }));
    expect(fraction.fieldErrorsIn('zh-CN')[0]!.message).toBe('金额最多两位小数（精确到分）');
  });

  it('refuses malformed bills on their fields', () => {
    const e = refused(() =>
      allocatePayment({
        amountFen: 100,
        lateFeesFirst: true,
        items: [
          { billId: 'B1', dueOn: '2026-02-30', unpaidFen: 100, lateFeeFen: 0 },
          { billId: 'B1', dueOn: '2026-03-01', unpaidFen: -5, lateFeeFen: 0.5 },
        ],
      }),
    );
    expect(e.fieldErrorsIn('en').map((f) => [f.path, f.code])).toEqual([
      ['items[0].dueOn', 'DATE_INVALID'],
      ['items[1].billId', 'BILL_DUPLICATE'],
      ['items[1].unpaidFen', 'AMOUNT_NEGATIVE'],
      ['items[1].lateFeeFen', 'AMOUNT_NOT_WHOLE_FEN'],
    ]);
    expect(e.fieldErrorsIn('zh-CN')[1]!.message).toBe('账单 B1 重复出现');
  });
});

describe('paymentLimitCheck (a payment above the limits needs confirmation)', () => {
  const limits = { confirmAboveFen: 1_000_000, maxFen: 5_000_000 };

  it('ok up to the confirmation limit, confirmation above it, refused above the maximum', () => {
    expect(paymentLimitCheck(1, limits)).toBe('ok');
    expect(paymentLimitCheck(1_000_000, limits)).toBe('ok');
    expect(paymentLimitCheck(1_000_001, limits)).toBe('needs_confirmation');
    expect(paymentLimitCheck(5_000_000, limits)).toBe('needs_confirmation');
    const e = refused(() => paymentLimitCheck(5_000_001, limits));
    expect(e.code).toBe('PAYMENT_INVALID');
    expect(e.fieldErrorsIn('zh-CN')).toEqual([
      { path: 'amountFen', code: 'AMOUNT_ABOVE_MAX', message: '单笔收费不能超过 50000.00 元' },
    ]);
    expect(e.fieldErrorsIn('en')[0]!.message).toBe('A single payment cannot exceed 50000.00 yuan');
  });

  it('refuses amounts that are not whole fen above zero, and has defaults', () => {
    expect(refused(() => paymentLimitCheck(0, limits)).fieldErrorsIn('en')[0]!.code).toBe(
      'AMOUNT_NOT_POSITIVE',
    );
    expect(refused(() => paymentLimitCheck(0.1, limits)).fieldErrorsIn('en')[0]!.code).toBe(
      'AMOUNT_NOT_WHOLE_FEN',
    );
    expect(paymentLimitCheck(PAYMENT_LIMIT_DEFAULTS.confirmAboveFen)).toBe('ok');
    expect(paymentLimitCheck(PAYMENT_LIMIT_DEFAULTS.confirmAboveFen + 1)).toBe('needs_confirmation');
  });
});

const dateArb = fc
  .integer({ min: 0, max: 3 * 365 })
  .map((d) => new Date(Date.UTC(2024, 0, 1) + d * 86_400_000).toISOString().slice(0, 10));
const itemsArb = fc.uniqueArray(
  fc.record({
    billId: fc.integer({ min: 1, max: 60 }).map((n) => `B${String(n).padStart(3, '0')}`),
    dueOn: dateArb,
    unpaidFen: fc.integer({ min: 0, max: 500_000 }),
    lateFeeFen: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50_000 })),
  }),
  { selector: (i) => i.billId, maxLength: 12 },
);

describe('allocatePayment properties', () => {
  it('nothing lost or counted twice; never more than owed; oldest first; late fee first; credit only when all is paid', () => {
    fc.assert(
      fc.property(
        itemsArb,
        fc.integer({ min: 1, max: 3_000_000 }),
        fc.boolean(),
        (items, amountFen, lateFeesFirst) => {
          const split = allocatePayment({ amountFen, items, lateFeesFirst });
          expect(splitTotalFen(split)).toBe(amountFen);
          expect(split.creditFen).toBeGreaterThanOrEqual(0);
          const byId = new Map(items.map((i) => [i.billId, i]));
          const sorted = [...items].sort(compareOpenItems);
          const owedFen = items.reduce((s, i) => s + i.unpaidFen + i.lateFeeFen, 0);
          expect(split.creditFen).toBe(Math.max(0, amountFen - owedFen));
          // Each bill at most once, in the settling order, never above what it owes.
          const order = split.allocations.map((a) => sorted.findIndex((i) => i.billId === a.billId));
          expect(order).toEqual([...order].sort((x, y) => x - y));
          expect(new Set(order).size).toBe(order.length);
          for (const a of split.allocations) {
            const item = byId.get(a.billId)!;
            expect(a.principalFen).toBeGreaterThanOrEqual(0);
            expect(a.lateFeeFen).toBeGreaterThanOrEqual(0);
            expect(a.principalFen).toBeLessThanOrEqual(item.unpaidFen);
            expect(a.lateFeeFen).toBeLessThanOrEqual(item.lateFeeFen);
            expect(a.principalFen + a.lateFeeFen).toBeGreaterThan(0);
            // Within a bill: the second part gets money only when the first is settled.
            if (lateFeesFirst && a.principalFen > 0) expect(a.lateFeeFen).toBe(item.lateFeeFen);
            if (!lateFeesFirst && a.lateFeeFen > 0) expect(a.principalFen).toBe(item.unpaidFen);
          }
          // Oldest first: every bill before the last one paid is settled in full.
          const last = order.at(-1) ?? -1;
          for (const item of sorted.slice(0, last)) {
            const a = split.allocations.find((x) => x.billId === item.billId);
            expect((a?.principalFen ?? 0) + (a?.lateFeeFen ?? 0)).toBe(item.unpaidFen + item.lateFeeFen);
          }
        },
      ),
    );
  });

  it('does not depend on the order the bills are given in', () => {
    fc.assert(
      fc.property(
        itemsArb.chain((items) =>
          fc.tuple(fc.constant(items), fc.shuffledSubarray(items, { minLength: items.length })),
        ),
        fc.integer({ min: 1, max: 2_000_000 }),
        fc.boolean(),
        ([items, shuffled], amountFen, lateFeesFirst) => {
          expect(allocatePayment({ amountFen, items: shuffled, lateFeesFirst })).toEqual(
            allocatePayment({ amountFen, items, lateFeesFirst }),
          );
        },
      ),
    );
  });

  it('breaks a tie of due dates by bill id in numeric order', () => {
    const split = allocatePayment({
      amountFen: 100,
      lateFeesFirst: true,
      items: [
        { billId: '10', dueOn: '2026-10-28', unpaidFen: 100, lateFeeFen: 0 },
        { billId: '9', dueOn: '2026-10-28', unpaidFen: 100, lateFeeFen: 0 },
      ],
    });
    expect(split.allocations).toEqual([{ billId: '9', principalFen: 100, lateFeeFen: 0 }]);
  });
});
