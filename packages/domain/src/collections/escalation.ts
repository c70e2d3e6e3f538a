import { addDays } from '../calendar/workingDays.ts';
import { assert } from '../platform/errors.ts';
import { wholeMonthsBetween } from './ageing.ts';

/**
 * The escalation ladder for customers still unpaid after the dunning timeline (DOMAIN.md §6
 * "Escalation"): a formal collection letter (催缴公函: numbered, stamped, signed for, registered
 * post if refused) → a lawyer's letter (律师函) → a shut-off request under the approval process.
 * Each step's rule is data (settings `escalation.*`): the least arrears, in billing cycles, months
 * and fen, that qualify, and the days that must pass after the previous step was delivered.
 * Amounts held out of escalation (undecided disputes, current installment agreements) never count.
 */

export const ESCALATION_STEPS = ['formal_letter', 'lawyer_letter', 'shutoff_request'] as const;
export type EscalationStep = (typeof ESCALATION_STEPS)[number];

/** The letters the ladder prints; `gas_notice` is the gas shut-off notice posted on the building. */
export const LETTER_KINDS = ['formal', 'lawyer', 'gas_notice'] as const;
export type LetterKind = (typeof LETTER_KINDS)[number];

/** Documents numbered in their own gapless sequence per year. */
export const COLLECTION_DOCUMENT_KINDS = ['formal', 'lawyer', 'gas_notice', 'shutoff', 'restore'] as const;
export type CollectionDocumentKind = (typeof COLLECTION_DOCUMENT_KINDS)[number];

export const COLLECTION_DOCUMENT_PREFIX: Readonly<Record<CollectionDocumentKind, string>> = {
  formal: 'CJ', // 催缴公函
  lawyer: 'LS', // 律师函
  gas_notice: 'TQ', // 停气通知
  shutoff: 'TS', // 停水/停气工单
  restore: 'FS', // 复水/复气工单
};

export const COLLECTION_SEQUENCE_DIGITS = 6;

/** collectionDocumentNumber('formal', 2026, 12) = 'CJ2026-000012'. */
export function collectionDocumentNumber(
  kind: CollectionDocumentKind,
  year: number,
  sequence: number,
): string {
  assert(Number.isInteger(year) && year >= 2000 && year <= 9999, 'year has four digits');
  assert(Number.isSafeInteger(sequence) && sequence > 0, 'sequence is a whole number above zero');
  assert(sequence < 10 ** COLLECTION_SEQUENCE_DIGITS, 'sequence fits its digits');
  return `${COLLECTION_DOCUMENT_PREFIX[kind]}${year}-${String(sequence).padStart(COLLECTION_SEQUENCE_DIGITS, '0')}`;
}

/** One overdue bill of an account as collections sees it. */
export interface OverdueBill {
  billId: number;
  period: string;
  dueOn: string;
  /** amount − paid, fen. */
  outstandingFen: number;
  /** Held out of escalation by disputes and installment agreements (collection_hold), fen. */
  heldFen: number;
}

/** What counts towards escalation: the overdue bills less what is held. */
export interface CountableArrears {
  /** Bills with something countable left, oldest due first. */
  bills: { billId: number; period: string; dueOn: string; countableFen: number }[];
  arrearsFen: number;
  /** Billing cycles in arrears: bills with a countable amount. */
  cycles: number;
  /** Whole calendar months since the oldest countable bill fell due (0 when none). */
  months: number;
  oldestDueOn: string | null;
}

/**
 * The arrears that count towards escalation and shut-off on `today`: overdue bills (due before
 * today) less the amounts held by disputes and installment agreements; a bill wholly held does not
 * count at all, not as a cycle nor for its age.
 */
export function countableArrears(bills: readonly OverdueBill[], today: string): CountableArrears {
  const counted = bills
    .filter((b) => b.dueOn < today)
    .map((b) => ({
      billId: b.billId,
      period: b.period,
      dueOn: b.dueOn,
      countableFen: Math.max(0, b.outstandingFen - Math.max(0, b.heldFen)),
    }))
    .filter((b) => b.countableFen > 0)
    .sort((a, b) => (a.dueOn < b.dueOn ? -1 : a.dueOn > b.dueOn ? 1 : a.billId - b.billId));
  const oldestDueOn = counted[0]?.dueOn ?? null;
  return {
    bills: counted,
    arrearsFen: counted.reduce((s, b) => s + b.countableFen, 0),
    cycles: counted.length,
    months: oldestDueOn === null ? 0 : wholeMonthsBetween(oldestDueOn, today),
    oldestDueOn,
  };
}

/** One rung of the ladder. */
export interface EscalationRule {
  step: EscalationStep;
  minCycles: number;
  minMonths: number;
  minArrearsFen: number;
  /** Days after the previous step was delivered (the first step: after nothing, so 0). */
  daysAfterPrevious: number;
}

/** The settings the ladder reads (keys under escalation.* in DEFAULT_SETTINGS). */
export interface EscalationSettings {
  'escalation.formal.minCycles': number;
  'escalation.formal.minMonths': number;
  'escalation.formal.minArrearsFen': number;
  'escalation.lawyer.minCycles': number;
  'escalation.lawyer.minMonths': number;
  'escalation.lawyer.minArrearsFen': number;
  'escalation.lawyer.daysAfterFormal': number;
  'escalation.shutoff.daysAfterLawyer': number;
  'escalation.letterDeadlineDays': number;
}

/** The ladder as data, from the settings. */
export function escalationRules(s: EscalationSettings): EscalationRule[] {
  return [
    {
      step: 'formal_letter',
      minCycles: s['escalation.formal.minCycles'],
      minMonths: s['escalation.formal.minMonths'],
      minArrearsFen: s['escalation.formal.minArrearsFen'],
      daysAfterPrevious: 0,
    },
    {
      step: 'lawyer_letter',
      minCycles: s['escalation.lawyer.minCycles'],
      minMonths: s['escalation.lawyer.minMonths'],
      minArrearsFen: s['escalation.lawyer.minArrearsFen'],
      daysAfterPrevious: s['escalation.lawyer.daysAfterFormal'],
    },
    {
      step: 'shutoff_request',
      minCycles: s['escalation.lawyer.minCycles'],
      minMonths: s['escalation.lawyer.minMonths'],
      minArrearsFen: s['escalation.lawyer.minArrearsFen'],
      daysAfterPrevious: s['escalation.shutoff.daysAfterLawyer'],
    },
  ];
}

/** The steps an account has been through in its current arrears episode. */
export interface EscalationHistory {
  /** Issued letters with the day they were delivered (signed for / posted), null while undelivered. */
  formal: { issuedOn: string; deliveredOn: string | null } | null;
  lawyer: { issuedOn: string; deliveredOn: string | null } | null;
  /** A shut-off request pending or approved (the ladder is at its top). */
  shutoffRequested: boolean;
}

export type NextStep =
  | { step: EscalationStep; dueOn: string; due: boolean }
  | {
      step: null;
      reason: 'NOT_IN_ARREARS' | 'BELOW_THRESHOLD' | 'AWAITING_DELIVERY' | 'AT_TOP';
    };

function qualifies(a: CountableArrears, r: EscalationRule): boolean {
  return (
    a.arrearsFen > 0 && a.cycles >= r.minCycles && a.months >= r.minMonths && a.arrearsFen >= r.minArrearsFen
  );
}

/**
 * The next rung for an account (nextEscalationStep): the first step not yet taken, once the
 * arrears qualify for it and its days after the previous step's delivery have passed. `due` says
 * whether it may be taken today; `dueOn` is the first day it may.
 */
export function nextEscalationStep(
  state: { today: string; arrears: CountableArrears; history: EscalationHistory },
  rules: readonly EscalationRule[],
): NextStep {
  const { today, arrears, history } = state;
  if (arrears.arrearsFen <= 0) return { step: null, reason: 'NOT_IN_ARREARS' };
  if (history.shutoffRequested) return { step: null, reason: 'AT_TOP' };
  const rule = (step: EscalationStep) => {
    const r = rules.find((x) => x.step === step);
    assert(r !== undefined, `a rule for ${step}`);
    return r;
  };
  let step: EscalationStep;
  let previous: { deliveredOn: string | null } | null = null;
  if (!history.formal) step = 'formal_letter';
  else if (!history.lawyer) {
    step = 'lawyer_letter';
    previous = history.formal;
  } else {
    step = 'shutoff_request';
    previous = history.lawyer;
  }
  const r = rule(step);
  if (!qualifies(arrears, r)) return { step: null, reason: 'BELOW_THRESHOLD' };
  if (previous && previous.deliveredOn === null) return { step: null, reason: 'AWAITING_DELIVERY' };
  const dueOn = previous?.deliveredOn ? addDays(previous.deliveredOn, r.daysAfterPrevious) : today;
  return { step, dueOn, due: dueOn <= today };
}

/** The payment deadline printed on a letter: `days` calendar days after it is issued. */
export function letterDeadline(issuedOn: string, days: number): string {
  assert(Number.isInteger(days) && days >= 0, 'deadline days is a whole number ≥ 0');
  return addDays(issuedOn, days);
}
