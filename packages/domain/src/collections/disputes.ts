/**
 * Disputes (水费异议, DOMAIN.md §6, docs/arrears.md): classified, described with the customer's
 * claim, for an amount on named bills (or the account); the office manager reviews each one: passes
 * it on to the next department, upholds or rejects it with a note. Until it is upheld or rejected,
 * the disputed amount is held out of escalation (the view collection_hold).
 */

/** The classification (the table dispute_category holds the names; the codes are fixed). */
export const DISPUTE_CATEGORIES = ['reading', 'tariff', 'meter_fault', 'leak', 'ownership', 'other'] as const;
export type DisputeCategory = (typeof DISPUTE_CATEGORIES)[number];

export const DISPUTE_STATUSES = ['open', 'passed_on', 'upheld', 'rejected'] as const;
export type DisputeStatusCode = (typeof DISPUTE_STATUSES)[number];

export const DISPUTE_ACTIONS = ['pass_on', 'uphold', 'reject'] as const;
export type DisputeAction = (typeof DISPUTE_ACTIONS)[number];

/** Whether a dispute in this state still holds its amount out of escalation. */
export function disputeUndecided(status: DisputeStatusCode): boolean {
  return status === 'open' || status === 'passed_on';
}

/**
 * The state after a review action, or null when the action is not allowed: an open dispute may be
 * passed on, upheld or rejected; one passed on may be upheld or rejected (the next department's
 * answer, recorded by the office); a decided dispute does not change.
 */
export function disputeTransition(
  status: DisputeStatusCode,
  action: DisputeAction,
): DisputeStatusCode | null {
  if (!disputeUndecided(status)) return null;
  if (action === 'pass_on') return status === 'open' ? 'passed_on' : null;
  return action === 'uphold' ? 'upheld' : 'rejected';
}

export interface DisputedBill {
  billId: number;
  /** What the bill still owes. */
  outstandingFen: number;
  disputedFen: number;
}

export type DisputeAmountProblem =
  | 'AMOUNT_NOT_POSITIVE'
  | 'ABOVE_OUTSTANDING'
  | 'BILL_DUPLICATE'
  | 'BILL_SETTLED';

/** Per bill: what is wrong with the amount disputed on it (an empty map: nothing). */
export function disputedAmountProblems(bills: readonly DisputedBill[]): Map<number, DisputeAmountProblem> {
  const problems = new Map<number, DisputeAmountProblem>();
  const seen = new Set<number>();
  bills.forEach((b, i) => {
    if (seen.has(b.billId)) problems.set(i, 'BILL_DUPLICATE');
    else if (b.outstandingFen <= 0) problems.set(i, 'BILL_SETTLED');
    else if (!Number.isSafeInteger(b.disputedFen) || b.disputedFen <= 0)
      problems.set(i, 'AMOUNT_NOT_POSITIVE');
    else if (b.disputedFen > b.outstandingFen) problems.set(i, 'ABOVE_OUTSTANDING');
    seen.add(b.billId);
  });
  return problems;
}

export const DISPUTE_MESSAGES: Record<
  DisputeAmountProblem | 'NOTE_REQUIRED' | 'PASSED_TO_REQUIRED' | 'AMOUNT_REQUIRED',
  { 'zh-CN': string; en: string }
> = {
  AMOUNT_NOT_POSITIVE: { 'zh-CN': '异议金额必须大于 0', en: 'The disputed amount must be more than zero' },
  ABOVE_OUTSTANDING: {
    'zh-CN': '异议金额不能超过该账单未缴金额 {yuan} 元',
    en: 'The disputed amount cannot exceed the {yuan} yuan the bill still owes',
  },
  BILL_DUPLICATE: { 'zh-CN': '同一账单只能列一次', en: 'A bill may be listed once' },
  BILL_SETTLED: { 'zh-CN': '该账单已缴清或已作废', en: 'This bill is paid or cancelled' },
  NOTE_REQUIRED: { 'zh-CN': '请填写处理意见', en: 'Write the review note' },
  PASSED_TO_REQUIRED: { 'zh-CN': '请填写转交的部门', en: 'Name the department it goes to' },
  AMOUNT_REQUIRED: {
    'zh-CN': '请选择异议账单或填写异议金额',
    en: 'Choose the disputed bills or enter the disputed amount',
  },
};
