import { type Bilingual, DomainError, formatMessage } from '../platform/errors.ts';

/**
 * Messages for the payment and ledger rules, in both languages. The codes are stable; the server
 * maps the error codes (PAYMENT_INVALID, POSTING_INVALID, …) to HTTP statuses once.
 */
export const PAYMENT_MESSAGES = {
  PAYMENT_INVALID: { 'zh-CN': '收费信息有误，未入账', en: 'The payment was refused' },
  POSTING_INVALID: { 'zh-CN': '记账信息有误，未入账', en: 'The posting was refused' },
  AMOUNT_NOT_NUMBER: { 'zh-CN': '请输入金额', en: 'Enter an amount' },
  AMOUNT_NOT_WHOLE_FEN: {
    'zh-CN': '金额最多两位小数（精确到分）',
    en: 'The amount has at most two decimals (whole fen)',
  },
  AMOUNT_NOT_POSITIVE: { 'zh-CN': '金额必须大于 0', en: 'The amount must be more than zero' },
  AMOUNT_NEGATIVE: { 'zh-CN': '金额不能为负数', en: 'The amount cannot be negative' },
  AMOUNT_TOO_LARGE: { 'zh-CN': '金额超出可处理范围', en: 'The amount is too large to process' },
  AMOUNT_ABOVE_MAX: {
    'zh-CN': '单笔收费不能超过 {maxYuan} 元',
    en: 'A single payment cannot exceed {maxYuan} yuan',
  },
  DATE_FORMAT: { 'zh-CN': '日期格式应为 YYYY-MM-DD', en: 'Dates are written YYYY-MM-DD' },
  DATE_INVALID: { 'zh-CN': '日期不存在', en: 'That date does not exist' },
  BILL_ID_REQUIRED: { 'zh-CN': '缺少账单号', en: 'The bill number is missing' },
  REVENUE_CODE_REQUIRED: { 'zh-CN': '缺少收入项目代码', en: 'The revenue code is missing' },
  BILL_DUPLICATE: {
    'zh-CN': '账单 {billId} 重复出现',
    en: 'Bill {billId} appears more than once',
  },
  TOO_MANY_ITEMS: { 'zh-CN': '一次最多 {max} 张账单', en: 'At most {max} bills at a time' },
  SPLIT_MISMATCH: {
    'zh-CN': '分配金额合计 {splitFen} 分与收款金额 {amountFen} 分不符',
    en: 'The amounts allocated add up to {splitFen} fen, not the {amountFen} fen paid',
  },
  CHANNEL_UNKNOWN: { 'zh-CN': '收费渠道 {channel} 不存在', en: 'Unknown payment channel {channel}' },
  POSTING_UNBALANCED: {
    'zh-CN': '凭证 {postingId} 借方 {debitFen} 分、贷方 {creditFen} 分，借贷不平',
    en: 'Posting {postingId} does not balance: {debitFen} fen debit, {creditFen} fen credit',
  },
  POSTING_UNKNOWN: {
    'zh-CN': '找不到要冲正的凭证 {postingId}',
    en: 'There is no posting {postingId} to reverse',
  },
  POSTING_ALREADY_REVERSED: {
    'zh-CN': '凭证 {postingId} 已被凭证 {reversalId} 冲正，不能重复冲正',
    en: 'Posting {postingId} was already reversed by {reversalId}; it cannot be reversed twice',
  },
  REVERSAL_OF_REVERSAL: {
    'zh-CN': '凭证 {postingId} 本身是冲正凭证，不能再冲正；请重新入账',
    en: 'Posting {postingId} is itself a reversal and cannot be reversed; post the entry again instead',
  },
  POSTING_ID_TAKEN: {
    'zh-CN': '凭证号 {postingId} 已被使用',
    en: 'Posting number {postingId} is already in use',
  },
} as const satisfies Record<string, Bilingual>;

export type PaymentMessageCode = keyof typeof PAYMENT_MESSAGES;

/** One field that is wrong: its path, the message code and the data the message quotes. */
export interface PaymentFieldProblem {
  path: string;
  code: PaymentMessageCode;
  data?: Record<string, unknown>;
}

export function bilingual(code: PaymentMessageCode, data: Record<string, unknown> = {}): Bilingual {
  const m = PAYMENT_MESSAGES[code];
  return { 'zh-CN': formatMessage(m['zh-CN'], data), en: formatMessage(m.en, data) };
}

/** A DomainError with the top-level code and one field error per problem (messages filled in). */
export function refusal(
  code: 'PAYMENT_INVALID' | 'POSTING_INVALID',
  problems: PaymentFieldProblem[],
  data: Record<string, unknown> = {},
): DomainError {
  return new DomainError(
    code,
    { ...data, count: problems.length },
    PAYMENT_MESSAGES[code],
    problems.map((p) => ({ path: p.path, code: p.code, messages: bilingual(p.code, p.data) })),
  );
}

/** A DomainError with no field: the whole request is wrong (a posting reversed twice, …). */
export function domainError(code: PaymentMessageCode, data: Record<string, unknown> = {}): DomainError {
  return new DomainError(code, data, PAYMENT_MESSAGES[code]);
}

/**
 * The problem with an amount of money in fen, if any: a number, whole fen, a safe integer, and
 * above zero (or not below zero with `allowZero`).
 */
export function amountProblem(
  path: string,
  amountFen: unknown,
  opts: { allowZero?: boolean } = {},
): PaymentFieldProblem | null {
  if (typeof amountFen !== 'number' || !Number.isFinite(amountFen))
    return { path, code: 'AMOUNT_NOT_NUMBER' };
  if (!Number.isInteger(amountFen)) return { path, code: 'AMOUNT_NOT_WHOLE_FEN' };
  if (!Number.isSafeInteger(amountFen)) return { path, code: 'AMOUNT_TOO_LARGE' };
  if (opts.allowZero ? amountFen < 0 : amountFen <= 0)
    return { path, code: opts.allowZero ? 'AMOUNT_NEGATIVE' : 'AMOUNT_NOT_POSITIVE' };
  return null;
}

/** Fen as yuan with two decimals, for messages: 123456 → "1234.56". */
export function yuanText(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
