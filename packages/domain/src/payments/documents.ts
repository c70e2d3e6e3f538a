import { assert } from '../platform/errors.ts';

/**
 * Receipts and invoices (收据与发票, DOMAIN.md §5): the receipt slip (收费小票), the invoice (发票),
 * the installation invoice (安装发票), the prepayment receipt (预存收据) and the VAT invoice
 * (增值税发票). Each kind is numbered in its own sequence per year, with no gaps, so a missing or
 * doubled number shows at once in the auditors' register.
 */

export const RECEIPT_KINDS = [
  'slip',
  'invoice',
  'installation_invoice',
  'prepayment_receipt',
  'vat_invoice',
] as const;
export type ReceiptKind = (typeof RECEIPT_KINDS)[number];

/** The prefix each kind's numbers carry. */
export const RECEIPT_PREFIX: Readonly<Record<ReceiptKind, string>> = {
  slip: 'SJ',
  invoice: 'FP',
  installation_invoice: 'AZ',
  prepayment_receipt: 'YC',
  vat_invoice: 'ZP',
};

/** Digits of the sequence part: 99,999,999 documents of one kind a year. */
export const RECEIPT_SEQUENCE_DIGITS = 8;

/** The printed number of the `sequence`-th document of a kind in a year: receiptNumber('slip', 2026, 123) = 'SJ2026-00000123'. */
export function receiptNumber(kind: ReceiptKind, year: number, sequence: number): string {
  assert(Number.isInteger(year) && year >= 2000 && year <= 9999, 'year has four digits');
  assert(Number.isSafeInteger(sequence) && sequence > 0, 'sequence is a whole number above zero');
  assert(sequence < 10 ** RECEIPT_SEQUENCE_DIGITS, 'sequence fits its digits');
  return `${RECEIPT_PREFIX[kind]}${year}-${String(sequence).padStart(RECEIPT_SEQUENCE_DIGITS, '0')}`;
}

/** The payment number printed on the slip: SK + China day + the day's sequence, e.g. SK20261123000123. */
export function paymentNumber(businessDay: string, sequence: number): string {
  assert(/^\d{4}-\d{2}-\d{2}$/.test(businessDay), 'business day is YYYY-MM-DD');
  assert(Number.isSafeInteger(sequence) && sequence > 0, 'sequence is a whole number above zero');
  return `SK${businessDay.replaceAll('-', '')}${String(sequence).padStart(6, '0')}`;
}

/** The receipt a payment of a given purpose gets when it is taken. */
export function receiptKindForPayment(purpose: 'bills' | 'deposit' | 'prepayment'): ReceiptKind {
  return purpose === 'prepayment' ? 'prepayment_receipt' : 'slip';
}

export type ExchangeRefusal =
  | 'NOT_A_SLIP'
  | 'SLIP_TAKEN_BACK'
  | 'SLIP_VOIDED'
  | 'ALREADY_EXCHANGED'
  | 'PAYMENT_REVERSED';

/**
 * "Swapping a slip for an invoice takes the slip back first" (DOMAIN.md §5): only an issued slip of a
 * payment that stands can be exchanged, and only once. Returns why not, or null when it may.
 */
export function slipExchangeRefusal(slip: {
  kind: ReceiptKind;
  status: 'issued' | 'taken_back' | 'voided';
  exchangedForReceiptId: number | null;
  paymentReversed: boolean;
}): ExchangeRefusal | null {
  if (slip.kind !== 'slip' && slip.kind !== 'prepayment_receipt') return 'NOT_A_SLIP';
  if (slip.exchangedForReceiptId !== null) return 'ALREADY_EXCHANGED';
  if (slip.status === 'taken_back') return 'SLIP_TAKEN_BACK';
  if (slip.status === 'voided') return 'SLIP_VOIDED';
  if (slip.paymentReversed) return 'PAYMENT_REVERSED';
  return null;
}
