/**
 * Installment agreements (还欠协议, DOMAIN.md §6, docs/arrears.md): a customer who cannot pay at once
 * pays the debt in n installments. The schedule's amounts sum exactly to the debt (whole fen, the
 * odd fen on the first installments); payments on the covered bills count against the installments
 * in order; an installment still unpaid `graceDays` after its date is missed, and the agreement is
 * defaulted (the arrears re-enter the escalation ladder).
 */

import { addDays } from '../calendar/workingDays.ts';
import { addMonths } from '../payments/deposits.ts';

export interface Installment {
  seq: number;
  dueOn: string;
  amountFen: number;
}

export interface ScheduleInput {
  debtFen: number;
  count: number;
  firstDueOn: string;
  /** Months between installments (1: monthly). */
  intervalMonths: number;
}

export type ScheduleProblem =
  | 'DEBT_NOT_POSITIVE'
  | 'COUNT_OUT_OF_RANGE'
  | 'DEBT_BELOW_COUNT'
  | 'INTERVAL_OUT_OF_RANGE'
  | 'SUM_NOT_DEBT'
  | 'AMOUNT_NOT_POSITIVE'
  | 'DATES_NOT_ASCENDING'
  | 'FIRST_BEFORE_TODAY'
  | 'LAST_TOO_LATE';

export const INSTALLMENT_MESSAGES: Record<
  ScheduleProblem | 'INSTALLMENT_COUNT_MAX',
  { 'zh-CN': string; en: string }
> = {
  DEBT_NOT_POSITIVE: { 'zh-CN': '没有可分期的欠费', en: 'There is no debt to pay in installments' },
  COUNT_OUT_OF_RANGE: { 'zh-CN': '分期期数应为 1 至 {max} 期', en: 'Between 1 and {max} installments' },
  INSTALLMENT_COUNT_MAX: { 'zh-CN': '分期期数应为 1 至 {max} 期', en: 'Between 1 and {max} installments' },
  DEBT_BELOW_COUNT: {
    'zh-CN': '欠费金额太小，不能分这么多期',
    en: 'The debt is too small for so many installments',
  },
  INTERVAL_OUT_OF_RANGE: { 'zh-CN': '每期间隔应为 1 至 3 个月', en: 'Installments are 1 to 3 months apart' },
  SUM_NOT_DEBT: {
    'zh-CN': '各期金额之和须等于欠费总额 {yuan} 元',
    en: 'The installments must add up to the debt of {yuan} yuan',
  },
  AMOUNT_NOT_POSITIVE: { 'zh-CN': '每期金额必须大于 0', en: 'Each installment must be more than zero' },
  DATES_NOT_ASCENDING: { 'zh-CN': '各期日期须依次递增', en: 'Installment dates must be in ascending order' },
  FIRST_BEFORE_TODAY: { 'zh-CN': '首期日期不能早于今天', en: 'The first installment cannot be before today' },
  LAST_TOO_LATE: {
    'zh-CN': '最后一期不能晚于 {months} 个月后',
    en: 'The last installment cannot be more than {months} months away',
  },
};

/**
 * The equal schedule: `count` installments `intervalMonths` apart from `firstDueOn`, each
 * floor(debt / count) fen, the remainder's odd fen one each on the first installments, so the sum
 * is exactly the debt and no two amounts differ by more than one fen.
 */
export function installmentSchedule(input: ScheduleInput): Installment[] {
  const { debtFen, count, firstDueOn, intervalMonths } = input;
  if (!Number.isSafeInteger(debtFen) || debtFen <= 0) throw new RangeError('DEBT_NOT_POSITIVE');
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('COUNT_OUT_OF_RANGE');
  if (debtFen < count) throw new RangeError('DEBT_BELOW_COUNT');
  const base = Math.floor(debtFen / count);
  const odd = debtFen - base * count;
  return Array.from({ length: count }, (_, i) => ({
    seq: i + 1,
    dueOn: addMonths(firstDueOn, i * intervalMonths),
    amountFen: base + (i < odd ? 1 : 0),
  }));
}

export interface ScheduleLimits {
  today: string;
  maxInstallments: number;
  /** The last installment no later than this many months after today. */
  maxMonths: number;
}

/** What is wrong with a schedule for `debtFen` (an empty list: nothing). */
export function scheduleProblems(
  items: readonly Installment[],
  debtFen: number,
  limits: ScheduleLimits,
): ScheduleProblem[] {
  const problems: ScheduleProblem[] = [];
  if (debtFen <= 0) return ['DEBT_NOT_POSITIVE'];
  if (items.length < 1 || items.length > limits.maxInstallments) problems.push('COUNT_OUT_OF_RANGE');
  if (items.some((i) => !Number.isSafeInteger(i.amountFen) || i.amountFen <= 0))
    problems.push('AMOUNT_NOT_POSITIVE');
  if (items.reduce((s, i) => s + i.amountFen, 0) !== debtFen) problems.push('SUM_NOT_DEBT');
  if (items.some((i, k) => k > 0 && i.dueOn <= items[k - 1]!.dueOn)) problems.push('DATES_NOT_ASCENDING');
  if (items.length && items[0]!.dueOn < limits.today) problems.push('FIRST_BEFORE_TODAY');
  if (items.length && items[items.length - 1]!.dueOn > addMonths(limits.today, limits.maxMonths))
    problems.push('LAST_TOO_LATE');
  return problems;
}

export interface InstallmentProgress {
  /** Installments fully paid, in order (payments count against the earliest first). */
  paidCount: number;
  /** The first installment not fully paid, or null when all are. */
  next: (Installment & { stillOwedFen: number }) | null;
  /** The first installment still unpaid `graceDays` after its date: the agreement is defaulted. */
  missed: Installment | null;
  completed: boolean;
}

/**
 * How far an agreement has got: `paidFen` (paid on the covered bills since the agreement) counts
 * against the installments in order. An installment is missed when, `graceDays` days after its
 * date, what was paid does not reach the sum of the installments up to it ("today" being later than
 * date + graceDays). A completed agreement is never missed.
 */
export function installmentProgress(
  items: readonly Installment[],
  paidFen: number,
  today: string,
  graceDays: number,
): InstallmentProgress {
  let cumulative = 0;
  let paidCount = 0;
  let next: InstallmentProgress['next'] = null;
  let missed: Installment | null = null;
  for (const item of items) {
    cumulative += item.amountFen;
    if (paidFen >= cumulative) {
      paidCount++;
      continue;
    }
    if (!next) next = { ...item, stillOwedFen: cumulative - Math.max(paidFen, cumulative - item.amountFen) };
    if (!missed && addDays(item.dueOn, graceDays) < today) missed = item;
  }
  const completed = paidCount === items.length && items.length > 0;
  return { paidCount, next, missed: completed ? null : missed, completed };
}

/** The agreement's printed number: HQ + year + 6-digit sequence (HQ2026-000012). */
export function agreementNumber(year: number, seq: number): string {
  return `HQ${year}-${String(seq).padStart(6, '0')}`;
}
