import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cashierCloseFigures, closeNeedsReason } from './cashierClose.ts';

describe('cashierCloseFigures ("cash handed to the bank is counted face to face against a bank voucher; every payment posted is 100% right")', () => {
  it('sums by channel; the system cash is the cash channel only', () => {
    const f = cashierCloseFigures(
      [
        { channel: 'cash', amountFen: 10_000, reversed: false },
        { channel: 'cash', amountFen: 2_550, reversed: false },
        { channel: 'bank_card', amountFen: 30_000, reversed: false },
      ],
      12_550,
    );
    expect(f).toEqual({
      byChannelFen: { cash: 12_550, bank_card: 30_000 },
      payments: 3,
      systemTotalFen: 42_550,
      systemCashFen: 12_550,
      countedCashFen: 12_550,
      differenceFen: 0,
    });
    expect(closeNeedsReason(f)).toBe(false);
  });

  it('a payment reversed before the close counts nothing', () => {
    const f = cashierCloseFigures(
      [
        { channel: 'cash', amountFen: 10_000, reversed: true },
        { channel: 'cash', amountFen: 500, reversed: false },
        { channel: 'online', amountFen: 700, reversed: true },
      ],
      500,
    );
    expect(f.payments).toBe(1);
    expect(f.systemTotalFen).toBe(500);
    expect(f.byChannelFen).toEqual({ cash: 500 });
    expect(f.differenceFen).toBe(0);
  });

  it('difference = counted − system cash: short below zero, over above, and either needs a reason', () => {
    const pays = [{ channel: 'cash', amountFen: 10_000, reversed: false }];
    const short = cashierCloseFigures(pays, 9_990);
    expect(short.differenceFen).toBe(-10);
    expect(closeNeedsReason(short)).toBe(true);
    const over = cashierCloseFigures(pays, 10_050);
    expect(over.differenceFen).toBe(50);
    expect(closeNeedsReason(over)).toBe(true);
  });

  it('nothing taken: empty figures, counted cash is all over', () => {
    const f = cashierCloseFigures([], 0);
    expect(f).toMatchObject({ payments: 0, systemTotalFen: 0, systemCashFen: 0, differenceFen: 0 });
    expect(cashierCloseFigures([], 100).differenceFen).toBe(100);
  });

  it('refuses fractional or negative amounts and counted cash', () => {
    expect(() => cashierCloseFigures([], -1)).toThrow(/counted cash/);
    expect(() => cashierCloseFigures([], 1.5)).toThrow(/counted cash/);
    expect(() => cashierCloseFigures([{ channel: 'cash', amountFen: 0, reversed: false }], 0)).toThrow(
      /above zero/,
    );
    expect(() => cashierCloseFigures([{ channel: 'cash', amountFen: 1.5, reversed: false }], 0)).toThrow();
  });

  it('property: total = sum of channels = sum of unreversed payments; difference sign follows counted cash', () => {
    const channel = fc.constantFrom('cash', 'bank_card', 'online', 'bank_counter');
    const payment = fc.record({
      channel,
      amountFen: fc.integer({ min: 1, max: 10_000_000 }),
      reversed: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(payment, { maxLength: 50 }),
        fc.integer({ min: 0, max: 100_000_000 }),
        (pays, counted) => {
          const f = cashierCloseFigures(pays, counted);
          const standing = pays.filter((p) => !p.reversed);
          expect(f.payments).toBe(standing.length);
          expect(f.systemTotalFen).toBe(standing.reduce((s, p) => s + p.amountFen, 0));
          expect(Object.values(f.byChannelFen).reduce((s, v) => s + v, 0)).toBe(f.systemTotalFen);
          const cash = standing.filter((p) => p.channel === 'cash').reduce((s, p) => s + p.amountFen, 0);
          expect(f.systemCashFen).toBe(cash);
          expect(Math.sign(f.differenceFen)).toBe(Math.sign(counted - cash));
          expect(closeNeedsReason(f)).toBe(counted !== cash);
        },
      ),
      { numRuns: 200 },
    );
  });
});
