import { assert } from '../platform/errors.ts';
import { type Allocation, type PaymentSplit, splitTotalFen } from './allocation.ts';
import { amountProblem, domainError, type PaymentFieldProblem, refusal } from './messages.ts';

/**
 * The account ledger (账务, DOMAIN.md §4, §5) as double-entry bookkeeping. Every business event —
 * a bill issued, a late fee, a payment, a refund — becomes one posting (凭证): a list of lines, each
 * a debit or a credit on one ledger account, and the debits of a posting always equal its credits.
 * Postings are never changed or deleted; a mistake is undone by a reversal (冲正), a new posting
 * that mirrors the old one line by line, debit for credit. Balances are sums of lines, never kept
 * apart from them.
 *
 * Ledger accounts and their normal side:
 * - receivable (应收账款, asset, debit): what the customer owes, per bill and per part (principal,
 *   late fee). Its lines always carry the bill.
 * - cash / bank / gateway (clearing, asset, debit): money received and not yet settled, per channel:
 *   counter cash; bank counter, direct debit (代扣), entrusted collection (托收), card and transfer;
 *   online payment gateways (WeChat Pay, Alipay, …). Finance clears them against bank statements.
 * - revenue (营业收入, credit): water/gas charges and other charges, by analysis code.
 * - late_fee_revenue (滞纳金收入, credit).
 * - prepayment (预收账款 / 预存, liability, credit): the customer's credit — overpayments and the
 *   prepaid IC-card sub-account — used against later bills or refunded.
 * - deposit_held (押金, liability, credit): deposits held, applied to arrears or refunded.
 * - write_off (坏账核销, expense, debit): debt written off with approval.
 *
 * Signs: a line has `debitFen` and `creditFen`, whole fen, exactly one above zero. `balances`
 * reports each account net as debit − credit (assets and expenses positive, liabilities and
 * revenue negative; the sum over all accounts is 0). `customerBalance` turns them into the
 * customer's terms: owed (receivable), credit held (prepayment), deposit held — all positive.
 *
 * One customer account's postings make one ledger; the server keeps account_id on every line.
 */

export const LEDGER_ACCOUNTS = [
  'receivable',
  'cash',
  'bank',
  'gateway',
  'revenue',
  'late_fee_revenue',
  'prepayment',
  'deposit_held',
  'write_off',
] as const;
export type LedgerAccount = (typeof LEDGER_ACCOUNTS)[number];

/** The clearing accounts: where money received waits for settlement with the bank. */
export type ClearingAccount = 'cash' | 'bank' | 'gateway';

/** Ways money comes in and goes out (收费渠道, DOMAIN.md §5); the prepaid load channels are among them. */
export const PAYMENT_CHANNELS = [
  'cash',
  'bank_card',
  'bank_counter',
  'direct_debit',
  'entrusted',
  'bank_transfer',
  'wechat',
  'alipay',
  'online',
] as const;
export type PaymentChannel = (typeof PAYMENT_CHANNELS)[number];

/** The clearing account of each channel. */
export const CLEARING_ACCOUNT_OF_CHANNEL: Readonly<Record<PaymentChannel, ClearingAccount>> = {
  cash: 'cash',
  bank_card: 'bank',
  bank_counter: 'bank',
  direct_debit: 'bank',
  entrusted: 'bank',
  bank_transfer: 'bank',
  wechat: 'gateway',
  alipay: 'gateway',
  online: 'gateway',
};

/** The two parts of a bill on the receivable: the charge itself and its late fee. */
export type ReceivablePart = 'principal' | 'late_fee';

export interface LedgerLine {
  ledgerAccount: LedgerAccount;
  /** Whole fen ≥ 0; exactly one of debitFen and creditFen is above zero. */
  debitFen: number;
  creditFen: number;
  /** Receivable lines: the bill and the part of it the line concerns. */
  billId?: string;
  part?: ReceivablePart;
  /** Revenue lines: an analysis code (the bill line code: 'charge', 'sewage', …). */
  code?: string;
}

export const POSTING_KINDS = [
  'charge',
  'late_fee',
  'late_fee_waiver',
  'payment',
  'adjustment_credit',
  'credit_transfer',
  'deposit_received',
  'deposit_applied',
  'deposit_refunded',
  'prepayment_load',
  'prepayment_deduction',
  'refund',
  'write_off',
  'reversal',
] as const;
export type PostingKind = (typeof POSTING_KINDS)[number];

export interface Posting {
  /** Unique in the ledger; the server uses the idempotency key or a sequence. */
  postingId: string;
  kind: PostingKind;
  /** A reversal: the posting it undoes; otherwise null. */
  reversesPostingId: string | null;
  lines: LedgerLine[];
}

/** A revenue amount by analysis code; a negative amount is a debit to revenue (a line taken off). */
export interface RevenueLine {
  code: string;
  amountFen: number;
}

/** The business events the ledger records, each turned into one posting by `postingFor`. */
export type LedgerEvent =
  /** A bill issued (开账): debit receivable (principal), credit revenue — in one line or per code. */
  | { kind: 'charge'; postingId: string; billId: string; amountFen: number; revenueLines?: RevenueLine[] }
  /** A late fee accrued on a bill: debit receivable (late fee), credit late_fee_revenue. */
  | { kind: 'late_fee'; postingId: string; billId: string; amountFen: number }
  /** A late fee waived (减免滞纳金): debit late_fee_revenue, credit receivable (late fee). */
  | { kind: 'late_fee_waiver'; postingId: string; billId: string; amountFen: number }
  /**
   * A payment: debit the channel's clearing account with the whole amount; credit receivable with
   * what each bill receives (principal and late fee) and prepayment with the overpayment.
   */
  | { kind: 'payment'; postingId: string; channel: PaymentChannel; amountFen: number; split: PaymentSplit }
  /** A negative bill (调减 / 退补): debit revenue, credit receivable (principal). `amountFen` > 0 is the credit. */
  | {
      kind: 'adjustment_credit';
      postingId: string;
      billId: string;
      amountFen: number;
      revenueLines?: RevenueLine[];
    }
  /**
   * A bill paid and then credited owes less than nothing: its receivable is below zero. The
   * credit moves to the customer's prepayment (转预存): debit receivable (principal), credit prepayment.
   */
  | { kind: 'credit_transfer'; postingId: string; billId: string; amountFen: number }
  /** A deposit paid in (押金): debit clearing, credit deposit_held. */
  | { kind: 'deposit_received'; postingId: string; channel: PaymentChannel; amountFen: number }
  /** A deposit applied to arrears: debit deposit_held, credit receivable per bill, the rest to prepayment. */
  | { kind: 'deposit_applied'; postingId: string; amountFen: number; split: PaymentSplit }
  /** A deposit paid back: debit deposit_held, credit clearing. */
  | { kind: 'deposit_refunded'; postingId: string; channel: PaymentChannel; amountFen: number }
  /** Money loaded onto the prepayment (预存 / IC卡充值): debit clearing, credit prepayment. */
  | { kind: 'prepayment_load'; postingId: string; channel: PaymentChannel; amountFen: number }
  /** Bills settled from the prepayment (预存扣款): debit prepayment, credit receivable per bill. */
  | { kind: 'prepayment_deduction'; postingId: string; amountFen: number; allocations: Allocation[] }
  /** Credit paid back to the customer (退款): debit prepayment, credit clearing. */
  | { kind: 'refund'; postingId: string; channel: PaymentChannel; amountFen: number }
  /** Debt written off (核销): debit write_off, credit receivable (principal and late fee). */
  | { kind: 'write_off'; postingId: string; billId: string; principalFen: number; lateFeeFen: number }
  /** The reversal (冲正) of a posting: its mirror image, a new posting. */
  | { kind: 'reversal'; postingId: string; reverses: Posting };

const debit = (ledgerAccount: LedgerAccount, fen: number, extra: Partial<LedgerLine> = {}): LedgerLine => ({
  ledgerAccount,
  debitFen: fen,
  creditFen: 0,
  ...extra,
});
const credit = (ledgerAccount: LedgerAccount, fen: number, extra: Partial<LedgerLine> = {}): LedgerLine => ({
  ledgerAccount,
  debitFen: 0,
  creditFen: fen,
  ...extra,
});

function isChannel(channel: unknown): channel is PaymentChannel {
  return typeof channel === 'string' && (PAYMENT_CHANNELS as readonly string[]).includes(channel);
}

/** Problems with an event's fields, each on its path. */
function eventProblems(event: LedgerEvent): PaymentFieldProblem[] {
  const problems: PaymentFieldProblem[] = [];
  const amount = (path: string, value: unknown, allowZero = false) => {
    const p = amountProblem(path, value, { allowZero });
    if (p) problems.push(p);
    return p === null;
  };
  const bill = (path: string, billId: unknown) => {
    if (typeof billId !== 'string' || billId === '') problems.push({ path, code: 'BILL_ID_REQUIRED' });
  };
  const channel = (value: unknown) => {
    if (!isChannel(value))
      problems.push({ path: 'channel', code: 'CHANNEL_UNKNOWN', data: { channel: value } });
  };
  const allocations = (path: string, list: readonly Allocation[]) =>
    list.forEach((a, i) => {
      bill(`${path}[${i}].billId`, a.billId);
      amount(`${path}[${i}].principalFen`, a.principalFen, true);
      amount(`${path}[${i}].lateFeeFen`, a.lateFeeFen, true);
    });
  const revenue = (lines: readonly RevenueLine[] | undefined, totalFen: number) => {
    if (!lines) return;
    let sum = 0;
    lines.forEach((l, i) => {
      if (typeof l.code !== 'string' || l.code === '')
        problems.push({ path: `revenueLines[${i}].code`, code: 'REVENUE_CODE_REQUIRED' });
      const p = amountProblem(`revenueLines[${i}].amountFen`, Math.abs(l.amountFen), { allowZero: true });
      if (p) problems.push(p);
      else sum += l.amountFen;
    });
    if (problems.length === 0 && sum !== totalFen)
      problems.push({
        path: 'revenueLines',
        code: 'SPLIT_MISMATCH',
        data: { splitFen: sum, amountFen: totalFen },
      });
  };

  switch (event.kind) {
    case 'charge':
      bill('billId', event.billId);
      if (amount('amountFen', event.amountFen)) revenue(event.revenueLines, event.amountFen);
      break;
    case 'adjustment_credit':
      bill('billId', event.billId);
      // The revenue lines of a credit add up to minus the credit (the lines taken off the bill).
      if (amount('amountFen', event.amountFen)) revenue(event.revenueLines, -event.amountFen);
      break;
    case 'late_fee':
    case 'late_fee_waiver':
    case 'credit_transfer':
      bill('billId', event.billId);
      amount('amountFen', event.amountFen);
      break;
    case 'payment':
    case 'deposit_applied': {
      if (event.kind === 'payment') channel(event.channel);
      const okAmount = amount('amountFen', event.amountFen);
      allocations('split.allocations', event.split.allocations);
      const okCredit = amount('split.creditFen', event.split.creditFen, true);
      if (okAmount && okCredit && problems.length === 0) {
        const splitFen = splitTotalFen(event.split);
        if (splitFen !== event.amountFen)
          problems.push({
            path: 'split',
            code: 'SPLIT_MISMATCH',
            data: { splitFen, amountFen: event.amountFen },
          });
      }
      break;
    }
    case 'prepayment_deduction': {
      const okAmount = amount('amountFen', event.amountFen);
      allocations('allocations', event.allocations);
      if (okAmount && problems.length === 0) {
        const splitFen = splitTotalFen({ allocations: event.allocations, creditFen: 0 });
        if (splitFen !== event.amountFen)
          problems.push({
            path: 'allocations',
            code: 'SPLIT_MISMATCH',
            data: { splitFen, amountFen: event.amountFen },
          });
      }
      break;
    }
    case 'deposit_received':
    case 'deposit_refunded':
    case 'prepayment_load':
    case 'refund':
      channel(event.channel);
      amount('amountFen', event.amountFen);
      break;
    case 'write_off': {
      bill('billId', event.billId);
      const ok =
        amount('principalFen', event.principalFen, true) && amount('lateFeeFen', event.lateFeeFen, true);
      if (ok && event.principalFen + event.lateFeeFen === 0)
        problems.push({ path: 'principalFen', code: 'AMOUNT_NOT_POSITIVE' });
      break;
    }
    case 'reversal':
      break;
  }
  return problems;
}

/** Receivable credit lines for the bills a payment (or deduction) settles: principal and late fee apart. */
function receivableCredits(allocations: readonly Allocation[]): LedgerLine[] {
  const lines: LedgerLine[] = [];
  for (const a of allocations) {
    if (a.lateFeeFen > 0)
      lines.push(credit('receivable', a.lateFeeFen, { billId: a.billId, part: 'late_fee' }));
    if (a.principalFen > 0)
      lines.push(credit('receivable', a.principalFen, { billId: a.billId, part: 'principal' }));
  }
  return lines;
}

/** Revenue lines: one per code (credit for a positive amount, debit for a negative one), or one line. */
function revenueLines(lines: readonly RevenueLine[] | undefined, totalFen: number): LedgerLine[] {
  const signed = lines ?? [{ code: '', amountFen: totalFen }];
  return signed
    .filter((l) => l.amountFen !== 0)
    .map((l) => {
      const extra = l.code === '' ? {} : { code: l.code };
      return l.amountFen > 0 ? credit('revenue', l.amountFen, extra) : debit('revenue', -l.amountFen, extra);
    });
}

/** A reversal's lines: each line of the original with debit and credit swapped. */
export function mirrorLines(lines: readonly LedgerLine[]): LedgerLine[] {
  return lines.map((l) => ({ ...l, debitFen: l.creditFen, creditFen: l.debitFen }));
}

/**
 * The balanced posting of a business event (see LedgerEvent for the lines of each). Refused with
 * field errors (POSTING_INVALID) when an amount is not whole fen above zero, a channel is unknown,
 * or a split does not add up to the amount; a reversal of a reversal is refused
 * (REVERSAL_OF_REVERSAL: post the entry again instead). Use `reversePosting` to reverse against
 * the ledger, which also refuses a posting reversed twice.
 */
export function postingFor(event: LedgerEvent): Posting {
  const problems = eventProblems(event);
  if (problems.length > 0) throw refusal('POSTING_INVALID', problems, { postingId: event.postingId });
  const posting = (lines: LedgerLine[], reversesPostingId: string | null = null): Posting => ({
    postingId: event.postingId,
    kind: event.kind,
    reversesPostingId,
    lines,
  });
  let result: Posting;
  switch (event.kind) {
    case 'charge':
      result = posting([
        debit('receivable', event.amountFen, { billId: event.billId, part: 'principal' }),
        ...revenueLines(event.revenueLines, event.amountFen),
      ]);
      break;
    case 'adjustment_credit':
      result = posting([
        ...revenueLines(event.revenueLines, -event.amountFen),
        credit('receivable', event.amountFen, { billId: event.billId, part: 'principal' }),
      ]);
      break;
    case 'credit_transfer':
      result = posting([
        debit('receivable', event.amountFen, { billId: event.billId, part: 'principal' }),
        credit('prepayment', event.amountFen),
      ]);
      break;
    case 'late_fee':
      result = posting([
        debit('receivable', event.amountFen, { billId: event.billId, part: 'late_fee' }),
        credit('late_fee_revenue', event.amountFen),
      ]);
      break;
    case 'late_fee_waiver':
      result = posting([
        debit('late_fee_revenue', event.amountFen),
        credit('receivable', event.amountFen, { billId: event.billId, part: 'late_fee' }),
      ]);
      break;
    case 'payment':
    case 'deposit_applied': {
      const from =
        event.kind === 'payment'
          ? debit(CLEARING_ACCOUNT_OF_CHANNEL[event.channel], event.amountFen)
          : debit('deposit_held', event.amountFen);
      const lines = [from, ...receivableCredits(event.split.allocations)];
      if (event.split.creditFen > 0) lines.push(credit('prepayment', event.split.creditFen));
      result = posting(lines);
      break;
    }
    case 'prepayment_deduction':
      result = posting([debit('prepayment', event.amountFen), ...receivableCredits(event.allocations)]);
      break;
    case 'deposit_received':
      result = posting([
        debit(CLEARING_ACCOUNT_OF_CHANNEL[event.channel], event.amountFen),
        credit('deposit_held', event.amountFen),
      ]);
      break;
    case 'deposit_refunded':
      result = posting([
        debit('deposit_held', event.amountFen),
        credit(CLEARING_ACCOUNT_OF_CHANNEL[event.channel], event.amountFen),
      ]);
      break;
    case 'prepayment_load':
      result = posting([
        debit(CLEARING_ACCOUNT_OF_CHANNEL[event.channel], event.amountFen),
        credit('prepayment', event.amountFen),
      ]);
      break;
    case 'refund':
      result = posting([
        debit('prepayment', event.amountFen),
        credit(CLEARING_ACCOUNT_OF_CHANNEL[event.channel], event.amountFen),
      ]);
      break;
    case 'write_off':
      result = posting([
        debit('write_off', event.principalFen + event.lateFeeFen),
        ...receivableCredits([
          { billId: event.billId, principalFen: event.principalFen, lateFeeFen: event.lateFeeFen },
        ]),
      ]);
      break;
    case 'reversal':
      if (event.reverses.kind === 'reversal')
        throw domainError('REVERSAL_OF_REVERSAL', { postingId: event.reverses.postingId });
      assertBalanced(event.reverses);
      result = posting(mirrorLines(event.reverses.lines), event.reverses.postingId);
      break;
  }
  assertBalanced(result);
  return result;
}

/** What is wrong with one posting on its own: its lines and its balance. */
export function postingViolations(posting: Posting): LedgerViolation[] {
  const violations: LedgerViolation[] = [];
  const at = { postingId: posting.postingId };
  if (posting.lines.length === 0) violations.push({ ...at, code: 'EMPTY_POSTING' });
  let debitFen = 0;
  let creditFen = 0;
  posting.lines.forEach((l, line) => {
    const whole = (n: number) => Number.isSafeInteger(n) && n >= 0;
    if (!(LEDGER_ACCOUNTS as readonly string[]).includes(l.ledgerAccount))
      violations.push({ ...at, code: 'UNKNOWN_ACCOUNT', line });
    if (!whole(l.debitFen) || !whole(l.creditFen)) {
      violations.push({ ...at, code: 'NEGATIVE_OR_FRACTIONAL_AMOUNT', line });
      return;
    }
    if (l.debitFen > 0 === l.creditFen > 0) violations.push({ ...at, code: 'LINE_NOT_ONE_SIDED', line });
    if (l.ledgerAccount === 'receivable' && (!l.billId || (l.part !== 'principal' && l.part !== 'late_fee')))
      violations.push({ ...at, code: 'RECEIVABLE_WITHOUT_BILL', line });
    debitFen += l.debitFen;
    creditFen += l.creditFen;
  });
  if (debitFen !== creditFen) violations.push({ ...at, code: 'UNBALANCED', debitFen, creditFen });
  return violations;
}

/**
 * Asserts a posting balances (sum of debits = sum of credits) and every line is whole fen on one
 * side; throws POSTING_UNBALANCED otherwise. Called on every posting `postingFor` makes.
 */
export function assertBalanced(posting: Posting): void {
  const violations = postingViolations(posting);
  if (violations.length === 0) return;
  const totals = postingTotals(posting);
  throw domainError('POSTING_UNBALANCED', { postingId: posting.postingId, ...totals, violations });
}

/** The debits and credits of one posting. */
export function postingTotals(posting: Posting): { debitFen: number; creditFen: number } {
  let debitFen = 0;
  let creditFen = 0;
  for (const l of posting.lines) {
    debitFen += l.debitFen;
    creditFen += l.creditFen;
  }
  return { debitFen, creditFen };
}

/** The debits and credits of a whole ledger; they are equal when every posting balances. */
export function ledgerTotals(postings: readonly Posting[]): { debitFen: number; creditFen: number } {
  let debitFen = 0;
  let creditFen = 0;
  for (const p of postings) {
    const t = postingTotals(p);
    debitFen += t.debitFen;
    creditFen += t.creditFen;
  }
  assert(Number.isSafeInteger(debitFen) && Number.isSafeInteger(creditFen), 'ledger totals out of range');
  return { debitFen, creditFen };
}

/** Each ledger account's net balance, debit − credit (every account present; they add up to 0). */
export function balances(postings: readonly Posting[]): Record<LedgerAccount, number> {
  const result = Object.fromEntries(LEDGER_ACCOUNTS.map((a) => [a, 0])) as Record<LedgerAccount, number>;
  for (const p of postings) for (const l of p.lines) result[l.ledgerAccount] += l.debitFen - l.creditFen;
  for (const a of LEDGER_ACCOUNTS) assert(Number.isSafeInteger(result[a]), `balance of ${a} out of range`);
  return result;
}

/** The customer's position, all in the customer's terms (positive amounts). */
export interface CustomerBalance {
  /** What the customer owes: the receivable's debit balance (principal + late fees). */
  receivableFen: number;
  /** Of which principal (bills) and late fees. */
  principalFen: number;
  lateFeeFen: number;
  /** Credit the customer holds: the prepayment's credit balance (overpayments and IC-card loads). */
  prepaymentFen: number;
  /** Deposits held for the customer: deposit_held's credit balance. */
  depositFen: number;
}

/**
 * What the customer owes and holds, from the ledger. The receivable goes below zero only when a
 * bill already paid is credited (adjustment_credit) or a charge is reversed after payment; a
 * credit_transfer then moves the bill's credit to the prepayment.
 */
export function customerBalance(postings: readonly Posting[]): CustomerBalance {
  let principalFen = 0;
  let lateFeeFen = 0;
  for (const p of postings)
    for (const l of p.lines) {
      if (l.ledgerAccount !== 'receivable') continue;
      if (l.part === 'late_fee') lateFeeFen += l.debitFen - l.creditFen;
      else principalFen += l.debitFen - l.creditFen;
    }
  const b = balances(postings);
  assert(principalFen + lateFeeFen === b.receivable, 'receivable = principal + late fees');
  return {
    receivableFen: b.receivable,
    principalFen,
    lateFeeFen,
    // 0 − x, not −x: a zero balance is 0, never −0.
    prepaymentFen: 0 - b.prepayment,
    depositFen: 0 - b.deposit_held,
  };
}

/** What each bill still owes on the receivable, principal and late fee apart (bills ever posted). */
export function receivableByBill(
  postings: readonly Posting[],
): Map<string, { principalFen: number; lateFeeFen: number }> {
  const byBill = new Map<string, { principalFen: number; lateFeeFen: number }>();
  for (const p of postings)
    for (const l of p.lines) {
      if (l.ledgerAccount !== 'receivable' || !l.billId) continue;
      const entry = byBill.get(l.billId) ?? { principalFen: 0, lateFeeFen: 0 };
      if (l.part === 'late_fee') entry.lateFeeFen += l.debitFen - l.creditFen;
      else entry.principalFen += l.debitFen - l.creditFen;
      byBill.set(l.billId, entry);
    }
  return byBill;
}

export type LedgerViolationCode =
  | 'EMPTY_POSTING'
  | 'UNKNOWN_ACCOUNT'
  | 'NEGATIVE_OR_FRACTIONAL_AMOUNT'
  | 'LINE_NOT_ONE_SIDED'
  | 'RECEIVABLE_WITHOUT_BILL'
  | 'UNBALANCED'
  | 'DUPLICATE_POSTING_ID'
  | 'REVERSAL_OF_UNKNOWN'
  | 'REVERSED_TWICE'
  | 'REVERSAL_OF_REVERSAL'
  | 'REVERSAL_NOT_MIRROR'
  | 'REVERSAL_WITHOUT_TARGET';

/** One broken invariant: which posting, which rule, and where (line index) or the figures. */
export interface LedgerViolation {
  postingId: string;
  code: LedgerViolationCode;
  line?: number;
  debitFen?: number;
  creditFen?: number;
  /** For reversals: the posting reversed (or the one that reversed it first). */
  otherPostingId?: string;
}

const lineKey = (l: LedgerLine) =>
  `${l.ledgerAccount}|${l.debitFen}|${l.creditFen}|${l.billId ?? ''}|${l.part ?? ''}|${l.code ?? ''}`;

/**
 * Checks the invariants of a ledger, postings in the order they were made: each posting balances,
 * amounts are whole fen on one side, receivable lines name their bill; posting ids are unique; a
 * reversal undoes an earlier posting that is not itself a reversal, mirrors it exactly, and no
 * posting is reversed twice. Returns every violation found; none for a sound ledger.
 */
export function checkLedger(postings: readonly Posting[]): LedgerViolation[] {
  const violations: LedgerViolation[] = [];
  const seen = new Map<string, Posting>();
  const reversedBy = new Map<string, string>();
  for (const p of postings) {
    violations.push(...postingViolations(p));
    if (seen.has(p.postingId)) violations.push({ postingId: p.postingId, code: 'DUPLICATE_POSTING_ID' });
    if (p.kind === 'reversal') {
      const targetId = p.reversesPostingId;
      const target = targetId === null ? undefined : seen.get(targetId);
      if (targetId === null) violations.push({ postingId: p.postingId, code: 'REVERSAL_WITHOUT_TARGET' });
      else if (!target)
        violations.push({ postingId: p.postingId, code: 'REVERSAL_OF_UNKNOWN', otherPostingId: targetId });
      else if (target.kind === 'reversal')
        violations.push({ postingId: p.postingId, code: 'REVERSAL_OF_REVERSAL', otherPostingId: targetId });
      else {
        const first = reversedBy.get(targetId);
        if (first !== undefined)
          violations.push({ postingId: p.postingId, code: 'REVERSED_TWICE', otherPostingId: first });
        else reversedBy.set(targetId, p.postingId);
        const expected = mirrorLines(target.lines).map(lineKey).join('\n');
        if (p.lines.map(lineKey).join('\n') !== expected)
          violations.push({ postingId: p.postingId, code: 'REVERSAL_NOT_MIRROR', otherPostingId: targetId });
      }
    } else if (p.reversesPostingId !== null) {
      violations.push({
        postingId: p.postingId,
        code: 'REVERSAL_WITHOUT_TARGET',
        otherPostingId: p.reversesPostingId,
      });
    }
    if (!seen.has(p.postingId)) seen.set(p.postingId, p);
  }
  return violations;
}

/** The id of the posting that reversed `postingId`, if any. */
export function reversalOf(postings: readonly Posting[], postingId: string): string | null {
  return postings.find((p) => p.kind === 'reversal' && p.reversesPostingId === postingId)?.postingId ?? null;
}

/**
 * The reversal (冲正) of posting `postingId` in this ledger, as a new posting `newPostingId`.
 * Refused when there is no such posting (POSTING_UNKNOWN), it was already reversed
 * (POSTING_ALREADY_REVERSED), it is itself a reversal (REVERSAL_OF_REVERSAL), or the new id is
 * taken (POSTING_ID_TAKEN).
 */
export function reversePosting(
  postings: readonly Posting[],
  postingId: string,
  newPostingId: string,
): Posting {
  const target = postings.find((p) => p.postingId === postingId);
  if (!target) throw domainError('POSTING_UNKNOWN', { postingId });
  if (target.kind === 'reversal') throw domainError('REVERSAL_OF_REVERSAL', { postingId });
  const reversalId = reversalOf(postings, postingId);
  if (reversalId !== null) throw domainError('POSTING_ALREADY_REVERSED', { postingId, reversalId });
  if (postings.some((p) => p.postingId === newPostingId))
    throw domainError('POSTING_ID_TAKEN', { postingId: newPostingId });
  return postingFor({ kind: 'reversal', postingId: newPostingId, reverses: target });
}
