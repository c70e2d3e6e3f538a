import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lateFeeFen } from '../billing/lateFee.ts';
import type { DomainError } from '../platform/errors.ts';
import { allocatePayment, type OpenItem, splitTotalFen } from './allocation.ts';
import {
  balances,
  checkLedger,
  customerBalance,
  type LedgerEvent,
  ledgerTotals,
  PAYMENT_CHANNELS,
  type PaymentChannel,
  type Posting,
  postingFor,
  postingTotals,
  receivableByBill,
  reversePosting,
} from './ledger.ts';

function refused(f: () => unknown): DomainError {
  try {
    f();
  } catch (e) {
    return e as DomainError;
  }
  throw new Error('accepted');
}

/** Residential water at 2.45 yuan/m³ + sewage 1.40 + water-resource fee 0.25: 4.10 yuan a m³. */
const charge = (postingId: string, billId: string, volumeM3: number): LedgerEvent => ({
  kind: 'charge',
  postingId,
  billId,
  amountFen: volumeM3 * 410,
  revenueLines: [
    { code: 'charge', amountFen: volumeM3 * 245 },
    { code: 'sewage', amountFen: volumeM3 * 140 },
    { code: 'water_resource', amountFen: volumeM3 * 25 },
  ],
});

const DUE: Record<string, string> = {
  'B2026-01': '2026-02-15',
  'B2026-02': '2026-03-15',
  'B2026-03': '2026-04-15',
};

/** The open bills as the ledger shows them, for allocation. */
function openItems(postings: readonly Posting[], dueOn: Record<string, string>): OpenItem[] {
  return [...receivableByBill(postings)].map(([billId, b]) => ({
    billId,
    dueOn: dueOn[billId]!,
    unpaidFen: Math.max(0, b.principalFen),
    lateFeeFen: Math.max(0, b.lateFeeFen),
  }));
}

/** Three bills (21, 18 and 22 m³) and the late fee on the oldest, 40 days overdue on 2026-03-27. */
function threeBillsAndALateFee(): Posting[] {
  const fee = lateFeeFen({
    unpaidFen: 21 * 410,
    dueOn: '2026-02-15',
    asOf: '2026-03-27',
    ratePerDay: '0.003',
    graceDays: 15,
  }).feeFen;
  return [
    postingFor(charge('C1', 'B2026-01', 21)),
    postingFor(charge('C2', 'B2026-02', 18)),
    postingFor(charge('C3', 'B2026-03', 22)),
    postingFor({ kind: 'late_fee', postingId: 'L1', billId: 'B2026-01', amountFen: fee }),
  ];
}

describe('postingFor: each business event as one balanced posting', () => {
  it('a bill issued: receivable debited, revenue credited per bill line code', () => {
    expect(postingFor(charge('C1', 'B2026-01', 21))).toEqual({
      postingId: 'C1',
      kind: 'charge',
      reversesPostingId: null,
      lines: [
        { ledgerAccount: 'receivable', debitFen: 8_610, creditFen: 0, billId: 'B2026-01', part: 'principal' },
        { ledgerAccount: 'revenue', debitFen: 0, creditFen: 5_145, code: 'charge' },
        { ledgerAccount: 'revenue', debitFen: 0, creditFen: 2_940, code: 'sewage' },
        { ledgerAccount: 'revenue', debitFen: 0, creditFen: 525, code: 'water_resource' },
      ],
    });
    // Or one revenue line.
    expect(postingFor({ kind: 'charge', postingId: 'C9', billId: 'B9', amountFen: 500 }).lines).toEqual([
      { ledgerAccount: 'receivable', debitFen: 500, creditFen: 0, billId: 'B9', part: 'principal' },
      { ledgerAccount: 'revenue', debitFen: 0, creditFen: 500 },
    ]);
  });

  it('the worked example: three bills and a late fee, 300 yuan in cash at the counter', () => {
    const ledger = threeBillsAndALateFee();
    expect(customerBalance(ledger)).toEqual({
      receivableFen: 8_610 + 7_380 + 9_020 + 646,
      principalFen: 25_010,
      lateFeeFen: 646,
      prepaymentFen: 0,
      depositFen: 0,
    });
    const split = allocatePayment({ amountFen: 30_000, items: openItems(ledger, DUE), lateFeesFirst: true });
    expect(split.creditFen).toBe(30_000 - 25_656);
    const payment = postingFor({
      kind: 'payment',
      postingId: 'P1',
      channel: 'cash',
      amountFen: 30_000,
      split,
    });
    expect(payment.lines).toEqual([
      { ledgerAccount: 'cash', debitFen: 30_000, creditFen: 0 },
      { ledgerAccount: 'receivable', debitFen: 0, creditFen: 646, billId: 'B2026-01', part: 'late_fee' },
      { ledgerAccount: 'receivable', debitFen: 0, creditFen: 8_610, billId: 'B2026-01', part: 'principal' },
      { ledgerAccount: 'receivable', debitFen: 0, creditFen: 7_380, billId: 'B2026-02', part: 'principal' },
      { ledgerAccount: 'receivable', debitFen: 0, creditFen: 9_020, billId: 'B2026-03', part: 'principal' },
      { ledgerAccount: 'prepayment', debitFen: 0, creditFen: 4_344 },
    ]);
    const after = [...ledger, payment];
    expect(balances(after)).toEqual({
      receivable: 0,
      cash: 30_000,
      bank: 0,
      gateway: 0,
      revenue: -25_010,
      late_fee_revenue: -646,
      prepayment: -4_344,
      deposit_held: 0,
      write_off: 0,
    });
    expect(customerBalance(after)).toMatchObject({ receivableFen: 0, prepaymentFen: 4_344 });
    expect(checkLedger(after)).toEqual([]);

    // The overpayment is refunded by bank transfer: the credit goes, the bank pays out.
    const refund = postingFor({
      kind: 'refund',
      postingId: 'R1',
      channel: 'bank_transfer',
      amountFen: 4_344,
    });
    expect(refund.lines).toEqual([
      { ledgerAccount: 'prepayment', debitFen: 4_344, creditFen: 0 },
      { ledgerAccount: 'bank', debitFen: 0, creditFen: 4_344 },
    ]);
    expect(customerBalance([...after, refund]).prepaymentFen).toBe(0);
  });

  it('a reversal (冲正) mirrors the payment as a new posting, restores every bill, and cannot be repeated', () => {
    const ledger = threeBillsAndALateFee();
    const split = allocatePayment({ amountFen: 20_000, items: openItems(ledger, DUE), lateFeesFirst: true });
    const payment = postingFor({
      kind: 'payment',
      postingId: 'P1',
      channel: 'wechat',
      amountFen: 20_000,
      split,
    });
    const paid = [...ledger, payment];
    expect(customerBalance(paid).receivableFen).toBe(25_656 - 20_000);
    expect(receivableByBill(paid).get('B2026-03')).toEqual({ principalFen: 9_020 - 3_364, lateFeeFen: 0 });

    const reversal = reversePosting(paid, 'P1', 'X1');
    expect(reversal.kind).toBe('reversal');
    expect(reversal.reversesPostingId).toBe('P1');
    expect(reversal.lines[0]).toEqual({ ledgerAccount: 'gateway', debitFen: 0, creditFen: 20_000 });
    const reversed = [...paid, reversal];
    // Nothing deleted: the payment stays, and the ledger is as before the payment.
    expect(reversed).toHaveLength(6);
    expect(balances(reversed)).toEqual(balances(ledger));
    expect(receivableByBill(reversed)).toEqual(receivableByBill(ledger));
    expect(checkLedger(reversed)).toEqual([]);

    const twice = refused(() => reversePosting(reversed, 'P1', 'X2'));
    expect(twice.code).toBe('POSTING_ALREADY_REVERSED');
    expect(twice.messageIn('zh-CN')).toBe('凭证 P1 已被凭证 X1 冲正，不能重复冲正');
    expect(twice.messageIn('en')).toBe('Posting P1 was already reversed by X1; it cannot be reversed twice');
    expect(refused(() => reversePosting(reversed, 'X1', 'X2')).code).toBe('REVERSAL_OF_REVERSAL');
    expect(refused(() => reversePosting(reversed, 'P9', 'X2')).code).toBe('POSTING_UNKNOWN');
    expect(refused(() => reversePosting(reversed, 'C1', 'P1')).code).toBe('POSTING_ID_TAKEN');
  });

  it('late fee waiver, adjustment credit and write-off take the amount off the receivable', () => {
    const ledger = threeBillsAndALateFee();
    const waiver = postingFor({
      kind: 'late_fee_waiver',
      postingId: 'W1',
      billId: 'B2026-01',
      amountFen: 646,
    });
    expect(waiver.lines).toEqual([
      { ledgerAccount: 'late_fee_revenue', debitFen: 646, creditFen: 0 },
      { ledgerAccount: 'receivable', debitFen: 0, creditFen: 646, billId: 'B2026-01', part: 'late_fee' },
    ]);
    // 3 m³ taken off the February bill (调减): the lines of the credit are negative.
    const credit = postingFor({
      kind: 'adjustment_credit',
      postingId: 'A1',
      billId: 'B2026-02',
      amountFen: 1_230,
      revenueLines: [
        { code: 'charge', amountFen: -735 },
        { code: 'sewage', amountFen: -420 },
        { code: 'water_resource', amountFen: -75 },
      ],
    });
    expect(credit.lines).toEqual([
      { ledgerAccount: 'revenue', debitFen: 735, creditFen: 0, code: 'charge' },
      { ledgerAccount: 'revenue', debitFen: 420, creditFen: 0, code: 'sewage' },
      { ledgerAccount: 'revenue', debitFen: 75, creditFen: 0, code: 'water_resource' },
      { ledgerAccount: 'receivable', debitFen: 0, creditFen: 1_230, billId: 'B2026-02', part: 'principal' },
    ]);
    const writeOff = postingFor({
      kind: 'write_off',
      postingId: 'WO1',
      billId: 'B2026-03',
      principalFen: 9_020,
      lateFeeFen: 0,
    });
    const all = [...ledger, waiver, credit, writeOff];
    expect(receivableByBill(all)).toEqual(
      new Map([
        ['B2026-01', { principalFen: 8_610, lateFeeFen: 0 }],
        ['B2026-02', { principalFen: 7_380 - 1_230, lateFeeFen: 0 }],
        ['B2026-03', { principalFen: 0, lateFeeFen: 0 }],
      ]),
    );
    expect(balances(all).write_off).toBe(9_020);
    expect(checkLedger(all)).toEqual([]);
  });

  it('a bill paid and then credited: the credit moves to the prepayment (转预存)', () => {
    const ledger = [
      postingFor(charge('C1', 'B1', 10)),
      postingFor({
        kind: 'payment',
        postingId: 'P1',
        channel: 'cash',
        amountFen: 4_100,
        split: { allocations: [{ billId: 'B1', principalFen: 4_100, lateFeeFen: 0 }], creditFen: 0 },
      }),
      postingFor({ kind: 'adjustment_credit', postingId: 'A1', billId: 'B1', amountFen: 820 }),
    ];
    expect(customerBalance(ledger)).toMatchObject({ receivableFen: -820, prepaymentFen: 0 });
    const transfer = postingFor({ kind: 'credit_transfer', postingId: 'T1', billId: 'B1', amountFen: 820 });
    expect(customerBalance([...ledger, transfer])).toMatchObject({ receivableFen: 0, prepaymentFen: 820 });
    expect(checkLedger([...ledger, transfer])).toEqual([]);
  });

  it('a deposit (押金) is held, applied to arrears, and the rest refunded', () => {
    const ledger = threeBillsAndALateFee();
    const received = postingFor({
      kind: 'deposit_received',
      postingId: 'D1',
      channel: 'cash',
      amountFen: 30_000,
    });
    const split = allocatePayment({ amountFen: 9_256, items: openItems(ledger, DUE), lateFeesFirst: true });
    expect(split).toEqual({
      allocations: [{ billId: 'B2026-01', principalFen: 8_610, lateFeeFen: 646 }],
      creditFen: 0,
    });
    const applied = postingFor({ kind: 'deposit_applied', postingId: 'D2', amountFen: 9_256, split });
    const refunded = postingFor({
      kind: 'deposit_refunded',
      postingId: 'D3',
      channel: 'bank_transfer',
      amountFen: 20_744,
    });
    const all = [...ledger, received, applied, refunded];
    expect(customerBalance(all)).toMatchObject({ receivableFen: 7_380 + 9_020, depositFen: 0 });
    expect(balances(all)).toMatchObject({ cash: 30_000, bank: -20_744, deposit_held: 0 });
    expect(customerBalance([...ledger, received])).toMatchObject({ depositFen: 30_000 });
  });

  it('a prepayment load (预存 / IC卡充值) settles bills by deduction (预存扣款)', () => {
    const ledger = threeBillsAndALateFee();
    const load = postingFor({
      kind: 'prepayment_load',
      postingId: 'PL1',
      channel: 'alipay',
      amountFen: 10_000,
    });
    const { allocations } = allocatePayment({
      amountFen: 10_000,
      items: openItems(ledger, DUE),
      lateFeesFirst: true,
    });
    const deduction = postingFor({
      kind: 'prepayment_deduction',
      postingId: 'PD1',
      amountFen: 10_000,
      allocations,
    });
    expect(deduction.lines[0]).toEqual({ ledgerAccount: 'prepayment', debitFen: 10_000, creditFen: 0 });
    const all = [...ledger, load, deduction];
    expect(customerBalance(all)).toMatchObject({ receivableFen: 15_656, prepaymentFen: 0 });
    expect(balances(all).gateway).toBe(10_000);
  });

  it('refuses amounts that are not whole fen above zero, unknown channels and splits that do not add up', () => {
    const zero = refused(() => postingFor({ kind: 'late_fee', postingId: 'L', billId: 'B', amountFen: 0 }));
    expect(zero.code).toBe('POSTING_INVALID');
    expect(zero.fieldErrorsIn('zh-CN')).toEqual([
      { path: 'amountFen', code: 'AMOUNT_NOT_POSITIVE', message: '金额必须大于 0' },
    ]);
    const channel = refused(() =>
      postingFor({ kind: 'refund', postingId: 'R', channel: 'barter' as PaymentChannel, amountFen: 1 }),
    );
    expect(channel.fieldErrorsIn('en')).toEqual([
      { path: 'channel', code: 'CHANNEL_UNKNOWN', message: 'Unknown payment channel barter' },
    ]);
    const mismatch = refused(() =>
      postingFor({
        kind: 'payment',
        postingId: 'P',
        channel: 'cash',
        amountFen: 1_000,
        split: { allocations: [{ billId: 'B', principalFen: 600, lateFeeFen: 0 }], creditFen: 300 },
      }),
    );
    expect(mismatch.fieldErrorsIn('zh-CN')[0]!.message).toBe('分配金额合计 900 分与收款金额 1000 分不符');
    const lines = refused(() =>
      postingFor({
        kind: 'charge',
        postingId: 'C',
        billId: 'B',
        amountFen: 100,
        revenueLines: [{ code: 'charge', amountFen: 99 }],
      }),
    );
    expect(lines.fieldErrorsIn('en')[0]!.path).toBe('revenueLines');
    expect(
      refused(() =>
        postingFor({ kind: 'write_off', postingId: 'W', billId: 'B', principalFen: 0, lateFeeFen: 0 }),
      ).code,
    ).toBe('POSTING_INVALID');
  });
});

describe('checkLedger (the invariants of the ledger)', () => {
  it('finds unbalanced postings, bad amounts, and reversals of unknown, reversed or reversal postings', () => {
    const ledger = threeBillsAndALateFee();
    const c1 = ledger[0]!;
    const x1 = reversePosting(ledger, 'C1', 'X1');
    const tampered: Posting[] = [
      ...ledger,
      { ...c1, postingId: 'BAD1', lines: [{ ...c1.lines[0]!, debitFen: 8_611 }, ...c1.lines.slice(1)] },
      {
        postingId: 'BAD2',
        kind: 'refund',
        reversesPostingId: null,
        lines: [
          { ledgerAccount: 'cash', debitFen: -5, creditFen: 0 },
          { ledgerAccount: 'prepayment', debitFen: 0, creditFen: -5 },
        ],
      },
      x1,
      { ...x1, postingId: 'X2' },
      { ...x1, postingId: 'X3', reversesPostingId: 'NOPE' },
      { ...x1, postingId: 'X4', reversesPostingId: 'X1' },
      { ...x1, postingId: 'C2' },
    ];
    const found = checkLedger(tampered).map((v) => [v.postingId, v.code, v.otherPostingId ?? v.line ?? null]);
    expect(found).toEqual([
      ['BAD1', 'UNBALANCED', null],
      ['BAD2', 'NEGATIVE_OR_FRACTIONAL_AMOUNT', 0],
      ['BAD2', 'NEGATIVE_OR_FRACTIONAL_AMOUNT', 1],
      ['X2', 'REVERSED_TWICE', 'X1'],
      ['X3', 'REVERSAL_OF_UNKNOWN', 'NOPE'],
      ['X4', 'REVERSAL_OF_REVERSAL', 'X1'],
      ['C2', 'DUPLICATE_POSTING_ID', null],
      ['C2', 'REVERSED_TWICE', 'X1'],
    ]);
    expect(checkLedger([...ledger, x1])).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties: a random life of one customer account.

type Op =
  | { op: 'charge'; volumeM3: number }
  | { op: 'lateFee'; pick: number; amountFen: number }
  | { op: 'pay'; amountFen: number; lateFeesFirst: boolean; channel: PaymentChannel }
  | { op: 'reverse'; pick: number }
  | { op: 'refund'; share: number; channel: PaymentChannel }
  | { op: 'load'; amountFen: number; channel: PaymentChannel }
  | { op: 'deduct' }
  | { op: 'adjust'; pick: number; share: number };

const channelArb = fc.constantFrom(...PAYMENT_CHANNELS);
const shareArb = fc.double({ min: 0, max: 1, noNaN: true });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('charge' as const), volumeM3: fc.integer({ min: 1, max: 300 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('lateFee' as const),
      pick: fc.nat(),
      amountFen: fc.integer({ min: 1, max: 5_000 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('pay' as const),
      amountFen: fc.integer({ min: 1, max: 200_000 }),
      lateFeesFirst: fc.boolean(),
      channel: channelArb,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('reverse' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('refund' as const), share: shareArb, channel: channelArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('load' as const),
      amountFen: fc.integer({ min: 1, max: 100_000 }),
      channel: channelArb,
    }),
  },
  { weight: 2, arbitrary: fc.constant({ op: 'deduct' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('adjust' as const), pick: fc.nat(), share: shareArb }),
  },
);

/** What each posting did, counted from the events (not from the lines): the model to check against. */
interface Effect {
  receivableFen: number;
  prepaymentFen: number;
  clearingFen: number;
}

function live(ops: Op[]) {
  const postings: Posting[] = [];
  const dueOn: Record<string, string> = {};
  const effects = new Map<string, Effect>();
  const model: Effect = { receivableFen: 0, prepaymentFen: 0, clearingFen: 0 };
  let paidInFen = 0;
  let seq = 0;
  const post = (event: LedgerEvent, effect: Effect) => {
    const p = postingFor(event);
    expect(postingTotals(p).debitFen).toBe(postingTotals(p).creditFen);
    postings.push(p);
    effects.set(p.postingId, effect);
    model.receivableFen += effect.receivableFen;
    model.prepaymentFen += effect.prepaymentFen;
    model.clearingFen += effect.clearingFen;
  };
  const bills = () => Object.keys(dueOn);
  for (const o of ops) {
    const id = `P${++seq}`;
    switch (o.op) {
      case 'charge': {
        const billId = `B${String(seq).padStart(4, '0')}`;
        dueOn[billId] = new Date(Date.UTC(2026, 0, 1) + seq * 86_400_000).toISOString().slice(0, 10);
        post(charge(id, billId, o.volumeM3), {
          receivableFen: o.volumeM3 * 410,
          prepaymentFen: 0,
          clearingFen: 0,
        });
        break;
      }
      case 'lateFee': {
        const billId = bills()[o.pick % Math.max(1, bills().length)];
        if (!billId) break;
        post(
          { kind: 'late_fee', postingId: id, billId, amountFen: o.amountFen },
          { receivableFen: o.amountFen, prepaymentFen: 0, clearingFen: 0 },
        );
        break;
      }
      case 'pay': {
        const split = allocatePayment({
          amountFen: o.amountFen,
          items: openItems(postings, dueOn),
          lateFeesFirst: o.lateFeesFirst,
        });
        // No payment amount lost or counted twice.
        expect(splitTotalFen(split)).toBe(o.amountFen);
        paidInFen += o.amountFen;
        post(
          { kind: 'payment', postingId: id, channel: o.channel, amountFen: o.amountFen, split },
          {
            receivableFen: -(o.amountFen - split.creditFen),
            prepaymentFen: split.creditFen,
            clearingFen: o.amountFen,
          },
        );
        break;
      }
      case 'reverse': {
        const candidates = postings.filter(
          (p) => p.kind !== 'reversal' && !postings.some((r) => r.reversesPostingId === p.postingId),
        );
        const target = candidates[o.pick % Math.max(1, candidates.length)];
        if (!target) break;
        const before = balances(postings);
        const reversal = reversePosting(postings, target.postingId, id);
        const e = effects.get(target.postingId)!;
        if (target.kind === 'payment') paidInFen -= postingTotals(target).debitFen;
        postings.push(reversal);
        effects.set(id, {
          receivableFen: -e.receivableFen,
          prepaymentFen: -e.prepaymentFen,
          clearingFen: -e.clearingFen,
        });
        model.receivableFen -= e.receivableFen;
        model.prepaymentFen -= e.prepaymentFen;
        model.clearingFen -= e.clearingFen;
        // Exactly undone: the balances move back by the target's own lines, nothing else.
        const after = balances(postings);
        const targetOnly = balances([target]);
        for (const a of Object.keys(after) as (keyof typeof after)[])
          expect(after[a]).toBe(before[a] - targetOnly[a]);
        // Reversing twice is refused, and so is reversing the reversal.
        expect(refused(() => reversePosting(postings, target.postingId, `${id}b`)).code).toBe(
          'POSTING_ALREADY_REVERSED',
        );
        expect(refused(() => reversePosting(postings, id, `${id}c`)).code).toBe('REVERSAL_OF_REVERSAL');
        break;
      }
      case 'refund': {
        const creditFen = customerBalance(postings).prepaymentFen;
        const amountFen = Math.min(creditFen, Math.max(1, Math.floor(creditFen * o.share)));
        if (amountFen <= 0) break;
        post(
          { kind: 'refund', postingId: id, channel: o.channel, amountFen },
          { receivableFen: 0, prepaymentFen: -amountFen, clearingFen: -amountFen },
        );
        break;
      }
      case 'load':
        post(
          { kind: 'prepayment_load', postingId: id, channel: o.channel, amountFen: o.amountFen },
          { receivableFen: 0, prepaymentFen: o.amountFen, clearingFen: o.amountFen },
        );
        break;
      case 'deduct': {
        const items = openItems(postings, dueOn);
        const owedFen = items.reduce((s, i) => s + i.unpaidFen + i.lateFeeFen, 0);
        const amountFen = Math.min(customerBalance(postings).prepaymentFen, owedFen);
        if (amountFen <= 0) break;
        const split = allocatePayment({ amountFen, items, lateFeesFirst: true });
        expect(split.creditFen).toBe(0);
        post(
          { kind: 'prepayment_deduction', postingId: id, amountFen, allocations: split.allocations },
          { receivableFen: -amountFen, prepaymentFen: -amountFen, clearingFen: 0 },
        );
        break;
      }
      case 'adjust': {
        const open = openItems(postings, dueOn).filter((i) => i.unpaidFen > 0);
        const item = open[o.pick % Math.max(1, open.length)];
        if (!item) break;
        const amountFen = Math.min(item.unpaidFen, Math.max(1, Math.floor(item.unpaidFen * o.share)));
        post(
          { kind: 'adjustment_credit', postingId: id, billId: item.billId, amountFen },
          { receivableFen: -amountFen, prepaymentFen: 0, clearingFen: 0 },
        );
        break;
      }
    }
  }
  return { postings, model, paidInFen };
}

describe('ledger properties', () => {
  it('for any life of an account: every posting balances, debits = credits, and the balances match the events', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 3, maxLength: 40, size: 'medium' }), (ops) => {
        const { postings, model, paidInFen } = live(ops);
        expect(checkLedger(postings)).toEqual([]);
        const totals = ledgerTotals(postings);
        expect(totals.debitFen).toBe(totals.creditFen);
        const b = balances(postings);
        expect(Object.values(b).reduce((s, x) => s + x, 0)).toBe(0);
        // receivable = charges + late fees − allocated payments − deductions − credits (+ reversals).
        const c = customerBalance(postings);
        expect(c.receivableFen).toBe(model.receivableFen);
        expect(c.prepaymentFen).toBe(model.prepaymentFen);
        expect(b.cash + b.bank + b.gateway).toBe(model.clearingFen);
        // Payments not reversed are all in the clearing accounts: paid in = allocated + credit.
        const payments = postings.filter(
          (p) => p.kind === 'payment' && !postings.some((r) => r.reversesPostingId === p.postingId),
        );
        expect(payments.reduce((s, p) => s + postingTotals(p).debitFen, 0)).toBe(paidInFen);
      }),
      { numRuns: 200 },
    );
  });

  it('a payment followed by its reversal leaves the ledger exactly as it was, bill by bill', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 25, size: 'medium' }),
        fc.integer({ min: 1, max: 300_000 }),
        fc.boolean(),
        channelArb,
        (ops, amountFen, lateFeesFirst, channel) => {
          const { postings } = live(ops);
          const dueOn = Object.fromEntries(
            [...receivableByBill(postings).keys()].map((b) => [b, '2026-01-31']),
          );
          const items = openItems(postings, dueOn);
          const split = allocatePayment({ amountFen, items, lateFeesFirst });
          const payment = postingFor({ kind: 'payment', postingId: 'PAY', channel, amountFen, split });
          const withPayment = [...postings, payment];
          const reversal = reversePosting(withPayment, 'PAY', 'REV');
          const undone = [...withPayment, reversal];
          expect(balances(undone)).toEqual(balances(postings));
          expect(customerBalance(undone)).toEqual(customerBalance(postings));
          const byBill = receivableByBill(undone);
          for (const [billId, bill] of receivableByBill(postings)) expect(byBill.get(billId)).toEqual(bill);
          // The next payment is allocated exactly as if the reversed one had never happened.
          expect(allocatePayment({ amountFen, items: openItems(undone, dueOn), lateFeesFirst })).toEqual(
            split,
          );
          expect(checkLedger(undone)).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });
});
