import { addDays, type WorkingCalendar } from '../calendar/workingDays.ts';
import { todayInChina } from '../platform/dates.ts';
import { assert } from '../platform/errors.ts';
import type { CountableArrears } from './escalation.ts';

/**
 * Shut-off and restore (DOMAIN.md §6 "Shut-off", "Restore"):
 * - water: individuals in arrears for two months or more, organisations for one month or more;
 * - gas: the notice is posted at the start of the month for one month's arrears, and the shut-off
 *   comes no earlier than 3 days after the posted notice;
 * - restore: supply back within 24 hours of payment, a removed meter within 2 working days;
 * - readers re-check shut-off customers for self-reconnection every N days.
 * Every figure is a setting (shutoff.*); held amounts never count (see countableArrears).
 */

export interface ShutoffSettings {
  'shutoff.water.personMonths': number;
  'shutoff.water.organisationMonths': number;
  'shutoff.gas.months': number;
  'shutoff.gas.daysAfterNotice': number;
  'shutoff.requireLadder': number;
  'shutoff.restoreHours': number;
  'shutoff.restoreRemovedWorkingDays': number;
  'shutoff.recheckEveryDays': number;
}

export type ShutoffRefusal =
  | 'NOT_ACTIVE'
  | 'NOT_IN_ARREARS'
  | 'TOO_FEW_MONTHS'
  | 'GAS_NOTICE_NOT_POSTED'
  | 'GAS_NOTICE_TOO_RECENT'
  | 'LADDER_INCOMPLETE'
  | 'ALREADY_REQUESTED';

export interface ShutoffCase {
  today: string;
  utility: string;
  customerKind: 'person' | 'organisation';
  customerState: string;
  arrears: CountableArrears;
  /** Gas: the day the shut-off notice was posted (latest, for the current arrears), or null. */
  gasNoticePostedOn: string | null;
  /** The ladder's shut-off step is due (lawyer's letter delivered long enough ago). */
  ladderDone: boolean;
  /** A shut-off request is pending, or a shut-off order is open or done without restore. */
  openShutoff: boolean;
}

export type ShutoffEligibility =
  | { eligible: true; monthsNeeded: number; earliestOn: string }
  | { eligible: false; reason: ShutoffRefusal; monthsNeeded: number; earliestOn: string | null };

/** The months of arrears that make a customer eligible (water by customer kind; gas its own). */
export function shutoffMonthsNeeded(
  utility: string,
  kind: 'person' | 'organisation',
  s: Pick<
    ShutoffSettings,
    'shutoff.water.personMonths' | 'shutoff.water.organisationMonths' | 'shutoff.gas.months'
  >,
): number {
  if (utility === 'gas') return s['shutoff.gas.months'];
  return kind === 'organisation' ? s['shutoff.water.organisationMonths'] : s['shutoff.water.personMonths'];
}

/**
 * Whether supply may be shut off today (isShutoffEligible), and if not, the first reason why.
 * Water follows the ladder when shutoff.requireLadder is 1; gas follows its posted notice instead.
 */
export function isShutoffEligible(c: ShutoffCase, s: ShutoffSettings): ShutoffEligibility {
  const monthsNeeded = shutoffMonthsNeeded(c.utility, c.customerKind, s);
  const no = (reason: ShutoffRefusal, earliestOn: string | null = null): ShutoffEligibility => ({
    eligible: false,
    reason,
    monthsNeeded,
    earliestOn,
  });
  if (c.openShutoff) return no('ALREADY_REQUESTED');
  if (c.customerState !== 'active') return no('NOT_ACTIVE');
  if (c.arrears.arrearsFen <= 0) return no('NOT_IN_ARREARS');
  if (c.arrears.months < monthsNeeded) return no('TOO_FEW_MONTHS');
  if (c.utility === 'gas') {
    if (c.gasNoticePostedOn === null) return no('GAS_NOTICE_NOT_POSTED');
    const earliestOn = addDays(c.gasNoticePostedOn, s['shutoff.gas.daysAfterNotice']);
    if (c.today < earliestOn) return no('GAS_NOTICE_TOO_RECENT', earliestOn);
    return { eligible: true, monthsNeeded, earliestOn };
  }
  if (s['shutoff.requireLadder'] === 1 && !c.ladderDone) return no('LADDER_INCOMPLETE');
  return { eligible: true, monthsNeeded, earliestOn: c.today };
}

/**
 * Gas: the shut-off notice is posted at the start of the month (gasNoticeDue) for customers with
 * one month's arrears or more: due when the arrears qualify and no notice was posted this month yet.
 */
export function gasNoticeDue(
  today: string,
  arrears: CountableArrears,
  lastNoticeOn: string | null,
  s: Pick<ShutoffSettings, 'shutoff.gas.months'>,
): boolean {
  if (arrears.arrearsFen <= 0 || arrears.months < s['shutoff.gas.months']) return false;
  return lastNoticeOn === null || lastNoticeOn.slice(0, 7) < today.slice(0, 7);
}

/**
 * Whether a payment cleared what made the customer eligible (shutoffArrearsCleared): every bill
 * listed on the shut-off order is now paid, or held by a dispute or an installment agreement.
 */
export function shutoffArrearsCleared(
  billsAtShutoff: readonly { billId: number }[],
  countableNowFen: ReadonlyMap<number, number>,
): boolean {
  return billsAtShutoff.every((b) => (countableNowFen.get(b.billId) ?? 0) <= 0);
}

/**
 * The restore deadline (restoreDeadline): `shutoff.restoreHours` after the payment; a removed meter
 * is refitted by the end of the `shutoff.restoreRemovedWorkingDays`-th working day after the day
 * of payment (China time; a payment on a rest day counts from the next working day).
 */
export function restoreDeadline(
  paidAt: Date,
  meterRemoved: boolean,
  calendar: WorkingCalendar,
  s: Pick<ShutoffSettings, 'shutoff.restoreHours' | 'shutoff.restoreRemovedWorkingDays'>,
): Date {
  if (!meterRemoved) {
    assert(s['shutoff.restoreHours'] > 0, 'restore hours above zero');
    return new Date(paidAt.getTime() + s['shutoff.restoreHours'] * 3_600_000);
  }
  // Day 0 is the day of payment, or the next working day when it was paid on a rest day.
  const lastDay = calendar.addWorkingDays(todayInChina(paidAt), s['shutoff.restoreRemovedWorkingDays']);
  // The end of that China day: 24:00 +08:00 is 16:00 UTC of the same date.
  return new Date(`${lastDay}T16:00:00.000Z`);
}

/** Whether a restore order is late: done after its deadline, or still open past it. */
export function isRestoreLate(dueAt: Date, completedAt: Date | null, now: Date): boolean {
  return (completedAt ?? now).getTime() > dueAt.getTime();
}

/**
 * When a shut-off customer is next due a self-reconnection check (recheckDueOn): every
 * shutoff.recheckEveryDays days after the shut-off or the last check, whichever is later.
 */
export function recheckDueOn(
  shutOffOn: string,
  lastCheckOn: string | null,
  s: Pick<ShutoffSettings, 'shutoff.recheckEveryDays'>,
): string {
  const days = s['shutoff.recheckEveryDays'];
  assert(Number.isInteger(days) && days > 0, 'recheck every whole number of days above zero');
  const from = lastCheckOn !== null && lastCheckOn > shutOffOn ? lastCheckOn : shutOffOn;
  return addDays(from, days);
}
