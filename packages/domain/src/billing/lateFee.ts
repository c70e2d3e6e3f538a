import { Decimal } from 'decimal.js';
import { assert, type Bilingual } from '../platform/errors.ts';
import { daysInclusive } from './days.ts';

/**
 * Late fees (滞纳金, DOMAIN.md §4): a bill not paid by its due date accrues a fee every calendar
 * day after the due date and a grace period, at a daily rate of the unpaid amount — "逾期按日加收
 * 千分之三滞纳金" as Chinese water notices print it.
 *
 * The fee is computed from dates, never incremented: unpaid × rate × days, rounded half-up to the
 * fen once on the total. So the accrual of day N is fee(N) − fee(N−1), the daily accruals add up
 * to the fee exactly, and a day skipped is caught up by the next computation. The fee never
 * exceeds `capRatio` × the unpaid amount (a common rule: never above the principal, capRatio 1).
 */

export interface LateFeeInput {
  /** What is unpaid of the bill, whole fen, ≥ 0. */
  unpaidFen: number;
  /** The last day to pay without a fee (bill.due_on). */
  dueOn: string;
  /** The day the fee is computed for (included). */
  asOf: string;
  /** Fee per day as a fraction of the unpaid amount: 0.003 is 3‰ a day. */
  ratePerDay: string | number;
  /** Calendar days after the due date that are free of fees. */
  graceDays: number;
  /** Cap as a multiple of the unpaid amount (1: never above the principal); null or absent: none. */
  capRatio?: string | number | null;
}

export interface LateFee {
  /** Calendar days charged: the days after dueOn + graceDays up to asOf. */
  days: number;
  /** The fee, whole fen, capped. */
  feeFen: number;
  /** The cap in fen (null: no cap). */
  capFen: number | null;
  capped: boolean;
}

/**
 * Days a late fee is charged for: the calendar days after `dueOn` + `graceDays`, up to and
 * including `asOf`. The grace days themselves are never charged, even once the grace has run out.
 */
export function lateFeeDays(dueOn: string, asOf: string, graceDays: number): number {
  assert(Number.isInteger(graceDays) && graceDays >= 0, 'graceDays must be a whole number ≥ 0');
  // daysInclusive(dueOn, asOf) − 1 = calendar days after the due date (0 on the due date itself).
  const overdueDays = asOf <= dueOn ? 0 : daysInclusive(dueOn, asOf) - 1;
  return Math.max(0, overdueDays - graceDays);
}

/** The late fee of one bill as of a day: unpaid × rate × days, half-up to the fen once, capped. */
export function lateFeeFen(input: LateFeeInput): LateFee {
  const { unpaidFen, dueOn, asOf, graceDays } = input;
  assert(Number.isSafeInteger(unpaidFen) && unpaidFen >= 0, 'unpaidFen must be whole fen ≥ 0');
  const rate = new Decimal(input.ratePerDay);
  assert(rate.isFinite() && rate.gte(0), 'ratePerDay must not be negative');
  const days = lateFeeDays(dueOn, asOf, graceDays);
  const raw = new Decimal(unpaidFen).mul(rate).mul(days).toDecimalPlaces(0, Decimal.ROUND_HALF_UP);
  const capRatio =
    input.capRatio === null || input.capRatio === undefined ? null : new Decimal(input.capRatio);
  assert(capRatio === null || (capRatio.isFinite() && capRatio.gte(0)), 'capRatio must not be negative');
  const capFen =
    capRatio === null
      ? null
      : new Decimal(unpaidFen).mul(capRatio).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
  const capped = capFen !== null && raw.gt(capFen);
  const feeFen = capped ? capFen : raw.toNumber();
  assert(Number.isSafeInteger(feeFen), 'late fee out of range');
  return { days, feeFen, capFen, capped };
}

/** What a late fee grew by from `fromDay` (exclusive) to `toDay` (inclusive): fee(to) − fee(from). */
export function lateFeeAccrualFen(input: Omit<LateFeeInput, 'asOf'>, fromDay: string, toDay: string): number {
  return lateFeeFen({ ...input, asOf: toDay }).feeFen - lateFeeFen({ ...input, asOf: fromDay }).feeFen;
}

export const LATE_FEE_MESSAGES = {
  WAIVER_AMOUNT: {
    'zh-CN': '减免金额须为大于 0 的整数（分）',
    en: 'The amount waived is a whole number of fen above 0',
  },
  WAIVER_ABOVE_OWED: {
    'zh-CN': '减免金额不能超过应收滞纳金 {owedFen} 分',
    en: 'The amount waived cannot exceed the late fee owed, {owedFen} fen',
  },
  WAIVER_REASON: { 'zh-CN': '请填写减免原因', en: 'Give the reason for the waiver' },
  WAIVER_NOTHING_OWED: { 'zh-CN': '该账单没有应收滞纳金', en: 'This bill has no late fee to waive' },
} as const satisfies Record<string, Bilingual>;

export type LateFeeMessageCode = keyof typeof LATE_FEE_MESSAGES;

export interface LateFeeProblem {
  path: string;
  code: LateFeeMessageCode;
  data: Record<string, unknown>;
}

/**
 * A waiver of a late fee (减免滞纳金): part or all of what is owed (accrued − already waived),
 * with a reason. `amountFen` omitted means all of it.
 */
export function validateLateFeeWaiver(input: {
  accruedFen: number;
  waivedFen: number;
  amountFen: number;
  reason: string;
}): LateFeeProblem[] {
  const owedFen = input.accruedFen - input.waivedFen;
  const problems: LateFeeProblem[] = [];
  if (owedFen <= 0) problems.push({ path: 'amountFen', code: 'WAIVER_NOTHING_OWED', data: {} });
  else if (!Number.isSafeInteger(input.amountFen) || input.amountFen <= 0)
    problems.push({ path: 'amountFen', code: 'WAIVER_AMOUNT', data: {} });
  else if (input.amountFen > owedFen)
    problems.push({ path: 'amountFen', code: 'WAIVER_ABOVE_OWED', data: { owedFen } });
  if (input.reason.trim() === '') problems.push({ path: 'reason', code: 'WAIVER_REASON', data: {} });
  return problems;
}

/** Ageing buckets of overdue days for the late-fee report: 1–30, 31–90, 91–180, 181–365, over 365. */
export const LATE_FEE_AGEING_DAYS = [30, 90, 180, 365] as const;

/** The ageing bucket (0-based index into LATE_FEE_AGEING_DAYS, or its length for "over") of a day count. */
export function lateFeeAgeingBucket(days: number): number {
  const i = LATE_FEE_AGEING_DAYS.findIndex((limit) => days <= limit);
  return i === -1 ? LATE_FEE_AGEING_DAYS.length : i;
}
