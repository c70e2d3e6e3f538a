import { describe, expect, it } from 'vitest';
import {
  paymentNumber,
  RECEIPT_KINDS,
  RECEIPT_PREFIX,
  RECEIPT_SEQUENCE_DIGITS,
  receiptKindForPayment,
  receiptNumber,
  slipExchangeRefusal,
} from './documents.ts';

describe('receiptNumber ("each kind is numbered in its own sequence per year, with no gaps")', () => {
  it('formats kind prefix, year and an 8-digit zero-padded sequence', () => {
    expect(receiptNumber('slip', 2026, 123)).toBe('SJ2026-00000123');
    expect(receiptNumber('invoice', 2026, 1)).toBe('FP2026-00000001');
    expect(receiptNumber('vat_invoice', 2027, 99_999_999)).toBe('ZP2027-99999999');
  });

  it('consecutive sequences give consecutive numbers that sort in issue order (gapless register)', () => {
    const numbers = Array.from({ length: 1_200 }, (_, i) => receiptNumber('slip', 2026, i + 1));
    expect(new Set(numbers).size).toBe(numbers.length);
    expect([...numbers].sort()).toEqual(numbers);
    for (let i = 0; i < numbers.length; i += 1)
      expect(Number((numbers[i] as string).slice(-RECEIPT_SEQUENCE_DIGITS))).toBe(i + 1);
  });

  it('every kind has its own distinct prefix, so the sequences never collide', () => {
    const prefixes = RECEIPT_KINDS.map((k) => RECEIPT_PREFIX[k]);
    expect(new Set(prefixes).size).toBe(RECEIPT_KINDS.length);
    const sameSeq = RECEIPT_KINDS.map((k) => receiptNumber(k, 2026, 7));
    expect(new Set(sameSeq).size).toBe(RECEIPT_KINDS.length);
  });

  it('bounds: sequence 1..99,999,999 and a four-digit year', () => {
    expect(() => receiptNumber('slip', 2026, 0)).toThrow(/sequence/);
    expect(() => receiptNumber('slip', 2026, -1)).toThrow(/sequence/);
    expect(() => receiptNumber('slip', 2026, 1.5)).toThrow(/sequence/);
    expect(() => receiptNumber('slip', 2026, 100_000_000)).toThrow(/digits/);
    expect(() => receiptNumber('slip', 1999, 1)).toThrow(/year/);
    expect(() => receiptNumber('slip', 10_000, 1)).toThrow(/year/);
    expect(() => receiptNumber('slip', 2026.5, 1)).toThrow(/year/);
  });
});

describe("paymentNumber (SK + China day + the day's sequence)", () => {
  it('formats the business day and a 6-digit sequence', () => {
    expect(paymentNumber('2026-11-23', 123)).toBe('SK20261123000123');
    expect(paymentNumber('2026-01-02', 1)).toBe('SK20260102000001');
  });
  it('refuses a malformed day or a sequence that is not a whole number above zero', () => {
    expect(() => paymentNumber('2026-1-2', 1)).toThrow(/YYYY-MM-DD/);
    expect(() => paymentNumber('2026-11-23', 0)).toThrow(/sequence/);
    expect(() => paymentNumber('2026-11-23', 2.5)).toThrow(/sequence/);
  });
});

describe('receiptKindForPayment', () => {
  it('a prepayment gets a prepayment receipt, bills and deposits a slip', () => {
    expect(receiptKindForPayment('prepayment')).toBe('prepayment_receipt');
    expect(receiptKindForPayment('bills')).toBe('slip');
    expect(receiptKindForPayment('deposit')).toBe('slip');
  });
});

describe('slipExchangeRefusal ("Swapping a slip for an invoice takes the slip back first")', () => {
  const slip = {
    kind: 'slip' as const,
    status: 'issued' as const,
    exchangedForReceiptId: null,
    paymentReversed: false,
  };
  it('an issued slip of a standing payment may be exchanged', () => {
    expect(slipExchangeRefusal(slip)).toBeNull();
    expect(slipExchangeRefusal({ ...slip, kind: 'prepayment_receipt' })).toBeNull();
  });
  it('only once: a slip already exchanged is refused', () => {
    expect(slipExchangeRefusal({ ...slip, exchangedForReceiptId: 5 })).toBe('ALREADY_EXCHANGED');
    // Exchanged wins over its taken-back status, so the clerk sees why.
    expect(slipExchangeRefusal({ ...slip, status: 'taken_back', exchangedForReceiptId: 5 })).toBe(
      'ALREADY_EXCHANGED',
    );
  });
  it('an invoice is not a slip', () => {
    expect(slipExchangeRefusal({ ...slip, kind: 'invoice' })).toBe('NOT_A_SLIP');
    expect(slipExchangeRefusal({ ...slip, kind: 'vat_invoice' })).toBe('NOT_A_SLIP');
  });
  it('a slip taken back or voided, or of a reversed payment, is refused', () => {
    expect(slipExchangeRefusal({ ...slip, status: 'taken_back' })).toBe('SLIP_TAKEN_BACK');
    expect(slipExchangeRefusal({ ...slip, status: 'voided' })).toBe('SLIP_VOIDED');
    expect(slipExchangeRefusal({ ...slip, paymentReversed: true })).toBe('PAYMENT_REVERSED');
  });
});
