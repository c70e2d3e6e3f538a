import { Decimal } from 'decimal.js';
import { assert, type Bilingual } from '../platform/errors.ts';

/**
 * Prepaid IC-card accounts (IC卡预付费, DOMAIN.md §2, §4): customers load money onto a prepayment
 * sub-account; each month's consumption bill is deducted from it and posted as revenue; a low
 * balance produces a notice. The account is a list of entries in signed integer fen that are never
 * changed — a load is positive, a deduction negative, a reversal undoes a deduction with the
 * opposite amount — and the balance is their sum, never kept apart from them. Entries shaped like
 * this become ledger entries (prepayment liability ↔ revenue) when the general ledger arrives.
 *
 * Deduction rule: the whole bill is deducted, even when it is more than the balance; the balance then
 * goes below zero and the shortfall shows as arrears (欠费). An IC-card meter cuts supply itself when
 * the credit on the card runs out, so consumption above the balance is rare and is owed in full;
 * deducting only part of a bill would leave one bill half prepaid and half unpaid.
 */

export type PrepaidEntryKind = 'load' | 'deduction' | 'reversal';

export interface PrepaidAmount {
  kind: PrepaidEntryKind;
  /** Signed integer fen: loads and reversals above zero, deductions below. */
  amountFen: number;
}

/** Ways money is loaded at the counter (收费渠道). */
export const PREPAID_LOAD_CHANNELS = ['cash', 'bank_card', 'wechat', 'alipay', 'bank_transfer'] as const;
export type PrepaidLoadChannel = (typeof PREPAID_LOAD_CHANNELS)[number];

/** Whether an entry's amount has the sign its kind requires (a whole, non-zero number of fen). */
export function isPrepaidAmountValid(entry: PrepaidAmount): boolean {
  if (!Number.isSafeInteger(entry.amountFen) || entry.amountFen === 0) return false;
  return entry.kind === 'deduction' ? entry.amountFen < 0 : entry.amountFen > 0;
}

/** The balance of a prepaid account: the sum of its entries, in fen. */
export function prepaidBalanceFen(entries: readonly PrepaidAmount[]): number {
  let balance = 0;
  for (const e of entries) {
    assert(isPrepaidAmountValid(e), `prepaid ${e.kind} of ${e.amountFen} fen has the wrong sign`);
    balance += e.amountFen;
  }
  assert(Number.isSafeInteger(balance), 'prepaid balance out of range');
  return balance;
}

/** Entries with the balance after each, in the order given (the statement's running balance). */
export function prepaidRunningBalances<T extends PrepaidAmount>(
  openingFen: number,
  entries: readonly T[],
): (T & { balanceAfterFen: number })[] {
  assert(Number.isSafeInteger(openingFen), 'opening balance must be whole fen');
  let balance = openingFen;
  return entries.map((e) => {
    balance += prepaidBalanceFen([e]);
    return { ...e, balanceAfterFen: balance };
  });
}

/** What is owed beyond the prepayment: the part of a negative balance below zero. */
export function prepaidArrearsFen(balanceFen: number): number {
  return balanceFen < 0 ? -balanceFen : 0;
}

/**
 * The deduction entry for a consumption bill: the whole bill (see the deduction rule above), or
 * nothing for a bill of zero. Never partial, whatever the balance.
 */
export function prepaidDeductionFen(billAmountFen: number): number | null {
  assert(
    Number.isSafeInteger(billAmountFen) && billAmountFen >= 0,
    'a bill amount is whole fen, not negative',
  );
  return billAmountFen === 0 ? null : -billAmountFen;
}

/** The reversal of a deduction whose bill was cancelled: the deduction's amount, given back. */
export function prepaidReversalFen(deductionFen: number): number {
  assert(Number.isSafeInteger(deductionFen) && deductionFen < 0, 'only a deduction is reversed');
  return -deductionFen;
}

export const PREPAID_MESSAGES = {
  AMOUNT_NOT_NUMBER: { 'zh-CN': '请输入金额', en: 'Enter an amount' },
  AMOUNT_NOT_POSITIVE: { 'zh-CN': '充值金额必须大于 0', en: 'The amount loaded must be more than zero' },
  AMOUNT_NOT_WHOLE_FEN: {
    'zh-CN': '金额最多两位小数（精确到分）',
    en: 'The amount has at most two decimals (whole fen)',
  },
  AMOUNT_ABOVE_MAX: {
    'zh-CN': '单次充值不能超过 {maxYuan} 元',
    en: 'At most {maxYuan} yuan can be loaded at once',
  },
  NOT_IC_CARD: {
    'zh-CN': '该用户没有在用的 IC 卡表，不能预付充值',
    en: 'This customer has no IC-card meter in service, so no prepayment can be loaded',
  },
} satisfies Record<string, Bilingual>;

export type PrepaidMessageCode = keyof typeof PREPAID_MESSAGES;

export interface PrepaidProblem {
  path: string;
  code: PrepaidMessageCode;
  messages: Bilingual;
}

const yuanOf = (fen: number) => new Decimal(fen).div(100).toFixed(2);

/**
 * A load (充值) of `amountFen`: a whole number of fen above zero and at most `maxLoadFen` (setting
 * prepaid.maxLoadFen). Returns the problems, each on `path`; none when the load may go ahead.
 */
export function validatePrepaidLoad(
  amountFen: unknown,
  maxLoadFen: number,
  path = 'amountFen',
): PrepaidProblem[] {
  const problem = (code: PrepaidMessageCode, data: Record<string, string> = {}): PrepaidProblem[] => {
    const m = PREPAID_MESSAGES[code];
    const fill = (s: string) => s.replace(/\{(\w+)\}/g, (w, k: string) => data[k] ?? w);
    return [{ path, code, messages: { 'zh-CN': fill(m['zh-CN']), en: fill(m.en) } }];
  };
  if (typeof amountFen !== 'number' || !Number.isFinite(amountFen)) return problem('AMOUNT_NOT_NUMBER');
  if (!Number.isInteger(amountFen)) return problem('AMOUNT_NOT_WHOLE_FEN');
  if (amountFen <= 0) return problem('AMOUNT_NOT_POSITIVE');
  if (amountFen > maxLoadFen) return problem('AMOUNT_ABOVE_MAX', { maxYuan: yuanOf(maxLoadFen) });
  return [];
}

/**
 * The average monthly charge of an account: `totalFen` billed over `months` months, rounded half up
 * to the fen once; 0 without history.
 */
export function averageMonthlyFen(totalFen: number, months: number): number {
  assert(Number.isSafeInteger(totalFen) && totalFen >= 0, 'total is whole fen, not negative');
  if (months <= 0) return 0;
  return new Decimal(totalFen).div(months).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
}

/**
 * The low-balance threshold (余额不足提醒线) of an account: the larger of a fixed amount (setting
 * prepaid.lowBalanceFen) and the account's average monthly charge times a number of months
 * (setting prepaid.lowBalanceMonths; 0 switches that part off), rounded half up once.
 */
export function prepaidLowBalanceThresholdFen(input: {
  fixedFen: number;
  months: number;
  averageMonthlyFen: number;
}): number {
  assert(
    input.fixedFen >= 0 && input.months >= 0 && input.averageMonthlyFen >= 0,
    'threshold inputs not negative',
  );
  const byUse = new Decimal(input.averageMonthlyFen)
    .mul(input.months)
    .toDecimalPlaces(0, Decimal.ROUND_HALF_UP);
  return Math.max(Math.round(input.fixedFen), byUse.toNumber());
}

/** A balance is low when it is below the threshold (a negative balance is always low). */
export function isPrepaidBalanceLow(balanceFen: number, thresholdFen: number): boolean {
  return balanceFen < thresholdFen || balanceFen < 0;
}

/** The outbox key of an account's low-balance notice: at most one a month (China month YYYY-MM). */
export function prepaidLowBalanceNoticeKey(month: string): string {
  assert(/^\d{4}-\d{2}$/.test(month), 'month is YYYY-MM');
  return `prepaid_low:${month}`;
}

/** The low-balance SMS (余额不足提醒). */
export function prepaidLowBalanceText(d: {
  utilityName: string;
  customerName: string;
  customerCode: string;
  balanceFen: number;
}): string {
  const signature = d.utilityName.trim() ? `【${d.utilityName.trim()}】` : '';
  const amount = yuanOf(Math.abs(d.balanceFen));
  const state = d.balanceFen < 0 ? `已欠费${amount}元` : `余额${amount}元`;
  return (
    `${signature}尊敬的${d.customerName}：您的户号${d.customerCode}预付费账户${state}，` +
    '余额不足，请及时到营业厅或线上充值，以免影响使用。'
  );
}
