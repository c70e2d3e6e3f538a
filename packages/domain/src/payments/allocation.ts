import { validateIsoDate } from '../platform/dates.ts';
import { assert } from '../platform/errors.ts';
import { DEFAULT_SETTINGS } from '../platform/settings.ts';
import { amountProblem, type PaymentFieldProblem, refusal, yuanText } from './messages.ts';

/**
 * Allocating a payment to open bills (销账, DOMAIN.md §5): money paid at the counter, by the bank
 * or online settles the customer's oldest bills first — by due date, then bill number, so the
 * order never depends on the order the bills were loaded in. Within one bill the late fee (滞纳金)
 * is settled before the principal when `lateFeesFirst` (the common rule: "先收滞纳金，后收本金"),
 * else the principal first. A bill never receives more than it owes; whatever is left over is
 * credit (预存 / 余额), posted to the customer's prepayment and used against later bills.
 *
 * The split is exact: sum of every allocation's principal and late fee + credit = amount paid,
 * to the fen. Nothing is rounded, nothing is lost or counted twice.
 */

/** At most this many open bills are allocated in one payment (a customer decades in arrears). */
export const MAX_OPEN_ITEMS = 1_000;

/** One open bill of the customer, as the ledger shows it now. */
export interface OpenItem {
  billId: string;
  /** The last day to pay without a late fee (YYYY-MM-DD): the allocation order. */
  dueOn: string;
  /** When the bill was issued, for display; the order is dueOn then billId. */
  issuedOn?: string;
  /** Principal still unpaid, whole fen ≥ 0. */
  unpaidFen: number;
  /** Late fee still unpaid (accrued − waived − paid), whole fen ≥ 0. */
  lateFeeFen: number;
}

/** What one payment settles of one bill. */
export interface Allocation {
  billId: string;
  principalFen: number;
  lateFeeFen: number;
}

/** The split of one payment: what each bill receives, and the credit left over. */
export interface PaymentSplit {
  allocations: Allocation[];
  /** The overpayment, whole fen ≥ 0: goes to the customer's prepayment (credit). */
  creditFen: number;
}

export interface AllocatePaymentInput {
  amountFen: number;
  items: readonly OpenItem[];
  /** true: late fee before principal within each bill (the common rule); false: principal first. */
  lateFeesFirst: boolean;
}

/** The order bills are settled in: oldest due date first, then bill number. */
export function compareOpenItems(a: OpenItem, b: OpenItem): number {
  if (a.dueOn !== b.dueOn) return a.dueOn < b.dueOn ? -1 : 1;
  if (a.billId === b.billId) return 0;
  // Numeric ids (int8 as text) in numeric order — '9' before '10' —, other keys as text.
  if (/^\d+$/.test(a.billId) && /^\d+$/.test(b.billId) && a.billId.length !== b.billId.length)
    return a.billId.length - b.billId.length;
  return a.billId < b.billId ? -1 : 1;
}

/** Problems with a payment amount and the open bills, each on its field; none when allocation may go ahead. */
export function validateAllocationInput(input: AllocatePaymentInput): PaymentFieldProblem[] {
  const problems: PaymentFieldProblem[] = [];
  const amount = amountProblem('amountFen', input.amountFen);
  if (amount) problems.push(amount);
  if (input.items.length > MAX_OPEN_ITEMS) {
    problems.push({ path: 'items', code: 'TOO_MANY_ITEMS', data: { max: MAX_OPEN_ITEMS } });
    return problems;
  }
  const seen = new Set<string>();
  input.items.forEach((item, i) => {
    const at = `items[${i}]`;
    if (typeof item.billId !== 'string' || item.billId === '')
      problems.push({ path: `${at}.billId`, code: 'BILL_ID_REQUIRED' });
    else if (seen.has(item.billId))
      problems.push({ path: `${at}.billId`, code: 'BILL_DUPLICATE', data: { billId: item.billId } });
    else seen.add(item.billId);
    const date = validateIsoDate(item.dueOn);
    if (!date.ok)
      problems.push({
        path: `${at}.dueOn`,
        code: date.code === 'DATE_FORMAT' ? 'DATE_FORMAT' : 'DATE_INVALID',
      });
    for (const field of ['unpaidFen', 'lateFeeFen'] as const) {
      const p = amountProblem(`${at}.${field}`, item[field], { allowZero: true });
      if (p) problems.push(p);
    }
  });
  return problems;
}

/**
 * Splits a payment over the open bills: oldest first, late fee before principal when
 * `lateFeesFirst`, never more than a bill owes; the rest is credit. Refused with field errors
 * (PAYMENT_INVALID) when the amount is not a whole number of fen above zero or a bill is malformed.
 * Bills that receive nothing are left out of `allocations`.
 */
export function allocatePayment(input: AllocatePaymentInput): PaymentSplit {
  const problems = validateAllocationInput(input);
  if (problems.length > 0) throw refusal('PAYMENT_INVALID', problems);
  let remainingFen = input.amountFen;
  const allocations: Allocation[] = [];
  for (const item of [...input.items].sort(compareOpenItems)) {
    if (remainingFen === 0) break;
    const take = (owedFen: number) => {
      const fen = Math.min(owedFen, remainingFen);
      remainingFen -= fen;
      return fen;
    };
    let principalFen: number;
    let lateFeeFen: number;
    if (input.lateFeesFirst) {
      lateFeeFen = take(item.lateFeeFen);
      principalFen = take(item.unpaidFen);
    } else {
      principalFen = take(item.unpaidFen);
      lateFeeFen = take(item.lateFeeFen);
    }
    if (principalFen + lateFeeFen > 0) allocations.push({ billId: item.billId, principalFen, lateFeeFen });
  }
  const split = { allocations, creditFen: remainingFen };
  assert(splitTotalFen(split) === input.amountFen, 'allocation + credit = amount paid');
  return split;
}

/** Everything a split accounts for: the allocations plus the credit. */
export function splitTotalFen(split: PaymentSplit): number {
  let total = split.creditFen;
  for (const a of split.allocations) total += a.principalFen + a.lateFeeFen;
  return total;
}

/** Payment limits (setting payments.confirmAboveFen, payments.maxFen). */
export interface PaymentLimits {
  /** Above this a second person confirms the payment before it is posted. */
  confirmAboveFen: number;
  /** Above this a payment is refused at the counter (split it, or post it as a bank transfer). */
  maxFen: number;
}

/**
 * Defaults for a new installation. DOMAIN.md gives no figures for these; they are placeholders to
 * be set by each utility: confirm above 10,000 yuan, refuse above 1,000,000 yuan.
 */
/** The limits a new installation starts with: settings payment.confirmAboveFen and payment.maxFen. */
export const PAYMENT_LIMIT_DEFAULTS: PaymentLimits = {
  confirmAboveFen: DEFAULT_SETTINGS['payment.confirmAboveFen'],
  maxFen: DEFAULT_SETTINGS['payment.maxFen'],
};

/**
 * "A payment larger than configured limits needs confirmation" (DOMAIN.md §5: every payment posted
 * is 100% right): 'ok' up to and including `confirmAboveFen`, 'needs_confirmation' above it, and
 * refused (PAYMENT_INVALID with a field error on amountFen) above `maxFen` or when the amount is not
 * a whole number of fen above zero.
 */
export function paymentLimitCheck(
  amountFen: number,
  limits: PaymentLimits = PAYMENT_LIMIT_DEFAULTS,
): 'ok' | 'needs_confirmation' {
  assert(
    Number.isSafeInteger(limits.confirmAboveFen) && limits.confirmAboveFen >= 0,
    'confirmAboveFen is whole fen ≥ 0',
  );
  assert(Number.isSafeInteger(limits.maxFen) && limits.maxFen > 0, 'maxFen is whole fen > 0');
  const p = amountProblem('amountFen', amountFen);
  if (p) throw refusal('PAYMENT_INVALID', [p]);
  if (amountFen > limits.maxFen)
    throw refusal('PAYMENT_INVALID', [
      { path: 'amountFen', code: 'AMOUNT_ABOVE_MAX', data: { maxYuan: yuanText(limits.maxFen) } },
    ]);
  return amountFen > limits.confirmAboveFen ? 'needs_confirmation' : 'ok';
}
