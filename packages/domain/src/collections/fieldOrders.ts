/**
 * Shut-off and restore work orders and re-checks on the handheld (DOMAIN.md §6 "Shut-off": "The
 * meter number is checked before shut-off. Obstruction goes to the inspectors."; "Restore":
 * "Readers re-check shut-off customers for self-reconnection."). See docs/escalation.md, section
 * "On the handheld". The same checks run on the phone (offline, before the result is queued) and on
 * the server (before the result is applied by the back office's own rules).
 */
import type { Bilingual } from '../platform/errors.ts';

/** What the worker found at a shut-off order: done (meter checked, supply off), mismatch, obstructed. */
export const SHUTOFF_FIELD_OUTCOMES = ['done', 'mismatch', 'obstructed'] as const;
/** How supply was shut off. */
export const SHUTOFF_ACTIONS = ['valve_closed', 'meter_removed'] as const;
/** What a re-check of a shut-off customer found: still off (seal intact), meter still removed, reconnected. */
export const RECHECK_FINDINGS = ['still_off', 'meter_removed', 'reconnected'] as const;
export type RecheckFinding = (typeof RECHECK_FINDINGS)[number];

/** Notes and typed meter numbers are bounded. */
export const MAX_FIELD_ORDER_NOTE = 500;

export const FIELD_ORDER_MESSAGES = {
  ORDER_OUTCOME_UNKNOWN: { 'zh-CN': '请选择执行结果', en: 'Choose the result' },
  ORDER_ACTION_REQUIRED: {
    'zh-CN': '请选择停水方式（关阀或拆表）',
    en: 'Choose how supply was shut off (valve closed or meter removed)',
  },
  ORDER_METER_NO_REQUIRED: {
    'zh-CN': '请输入现场核对的表号',
    en: 'Type the meter number read on site',
  },
  ORDER_METER_NO_MISMATCH: {
    'zh-CN': '与工单表号不符：不得停水，请登记为“表号不符”',
    en: 'Not the meter on the order: do not shut off; record a mismatch',
  },
  ORDER_NOTE_REQUIRED: {
    'zh-CN': '请说明受阻情况，转稽查处理',
    en: 'Describe the obstruction for the inspectors',
  },
  ORDER_NOTE_TOO_LONG: { 'zh-CN': '备注不能超过 500 字', en: 'The note is longer than 500 characters' },
  RECHECK_FINDING_UNKNOWN: { 'zh-CN': '请选择复查结果', en: 'Choose what the re-check found' },
} as const satisfies Record<string, Bilingual>;

export type FieldOrderMessageCode = keyof typeof FIELD_ORDER_MESSAGES;

export interface FieldOrderProblem {
  path: string;
  code: FieldOrderMessageCode;
  messages: Bilingual;
}

const problem = (path: string, code: FieldOrderMessageCode): FieldOrderProblem => ({
  path,
  code,
  messages: FIELD_ORDER_MESSAGES[code],
});

/**
 * Whether the meter number typed on site is the meter on the order. Spaces and letter case do not
 * count (a worker typing "ab 123" at the meter reads "AB123"); nothing typed never matches.
 */
export function meterNumberMatches(typed: string, expected: string): boolean {
  const norm = (s: string) => s.replace(/\s+/g, '').toUpperCase();
  return norm(typed) !== '' && norm(typed) === norm(expected);
}

export interface FieldOrderResultInput {
  kind: 'shutoff' | 'restore';
  outcome: string;
  action: string | null;
  confirmedMeterNo: string;
  /** The meter number printed on the order. */
  expectedMeterNo: string;
  note: string;
}

/**
 * A work order's result as the handheld records it. Shut-off: done needs the way it was shut off and
 * the meter number typed on site, which must be the order's (else: record a mismatch — nothing is
 * shut off); obstructed needs a note for the inspectors. Restore: done only.
 */
export function validateFieldOrderResult(r: FieldOrderResultInput): FieldOrderProblem[] {
  const out: FieldOrderProblem[] = [];
  if (r.note.length > MAX_FIELD_ORDER_NOTE) out.push(problem('note', 'ORDER_NOTE_TOO_LONG'));
  if (r.kind === 'restore') {
    if (r.outcome !== 'done') out.push(problem('outcome', 'ORDER_OUTCOME_UNKNOWN'));
    return out;
  }
  if (!(SHUTOFF_FIELD_OUTCOMES as readonly string[]).includes(r.outcome)) {
    out.push(problem('outcome', 'ORDER_OUTCOME_UNKNOWN'));
    return out;
  }
  if (r.outcome === 'done') {
    if (!r.action || !(SHUTOFF_ACTIONS as readonly string[]).includes(r.action))
      out.push(problem('action', 'ORDER_ACTION_REQUIRED'));
    if (r.confirmedMeterNo.trim() === '') out.push(problem('confirmedMeterNo', 'ORDER_METER_NO_REQUIRED'));
    else if (!meterNumberMatches(r.confirmedMeterNo, r.expectedMeterNo))
      out.push(problem('confirmedMeterNo', 'ORDER_METER_NO_MISMATCH'));
  }
  if (r.outcome === 'obstructed' && r.note.trim() === '') out.push(problem('note', 'ORDER_NOTE_REQUIRED'));
  return out;
}

/** The back office's re-check outcome for a finding: a reconnection is referred to the inspectors. */
export function recheckOutcome(finding: RecheckFinding): 'intact' | 'reconnected' {
  return finding === 'reconnected' ? 'reconnected' : 'intact';
}

export function validateRecheck(r: { finding: string; note: string }): FieldOrderProblem[] {
  const out: FieldOrderProblem[] = [];
  if (!(RECHECK_FINDINGS as readonly string[]).includes(r.finding))
    out.push(problem('finding', 'RECHECK_FINDING_UNKNOWN'));
  if (r.note.length > MAX_FIELD_ORDER_NOTE) out.push(problem('note', 'ORDER_NOTE_TOO_LONG'));
  return out;
}

/**
 * The countdown shown on the handheld: whole minutes left until the deadline (negative: overdue
 * by that much), or null when the order has no deadline (a shut-off order).
 */
export function minutesLeft(dueAtIso: string | null, now: Date): number | null {
  if (dueAtIso === null) return null;
  const due = new Date(dueAtIso).getTime();
  if (Number.isNaN(due)) return null;
  return Math.floor((due - now.getTime()) / 60_000);
}
