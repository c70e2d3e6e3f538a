import { assert } from '../platform/errors.ts';
import { DEFAULT_SETTINGS } from '../platform/settings.ts';

/**
 * Deposits (押金, DOMAIN.md §2, §7): large individual users pay 3 months' charges, refunded after
 * one year of normal payment; developer-to-resident transfers pay 3 billing cycles; a one-household-
 * one-meter connection pays one month, refunded within a month of supply. A deposit is held on the
 * deposit_held ledger account; it is refunded (with approval) or applied to arrears.
 */

export const DEPOSIT_KINDS = ['large_user', 'developer', 'household'] as const;
export type DepositKind = (typeof DEPOSIT_KINDS)[number];

export interface DepositSettings {
  largeUserMonths: number;
  developerMonths: number;
  householdMonths: number;
  /** Months of normal payment (no late fee on any bill due in them) before a large user's deposit is refunded. */
  largeUserRefundAfterMonths: number;
}

export const DEPOSIT_DEFAULTS: DepositSettings = {
  largeUserMonths: DEFAULT_SETTINGS['deposit.largeUserMonths'],
  developerMonths: DEFAULT_SETTINGS['deposit.developerMonths'],
  householdMonths: DEFAULT_SETTINGS['deposit.householdMonths'],
  largeUserRefundAfterMonths: 12,
};

/** The months of charges a deposit of this kind covers. */
export function depositMonths(kind: DepositKind, settings: DepositSettings = DEPOSIT_DEFAULTS): number {
  if (kind === 'large_user') return settings.largeUserMonths;
  if (kind === 'developer') return settings.developerMonths;
  return settings.householdMonths;
}

/**
 * The deposit asked of a customer: the months of its kind × the average monthly charge, in whole
 * yuan rounded up (a deposit is taken in whole yuan at the counter). Zero history asks nothing: the
 * clerk then enters the amount agreed.
 */
export function depositRequiredFen(
  kind: DepositKind,
  averageMonthlyFen: number,
  settings: DepositSettings = DEPOSIT_DEFAULTS,
): number {
  assert(Number.isSafeInteger(averageMonthlyFen) && averageMonthlyFen >= 0, 'average is whole fen ≥ 0');
  const fen = averageMonthlyFen * depositMonths(kind, settings);
  return Math.ceil(fen / 100) * 100;
}

export type DepositRefundRefusal =
  | 'NOT_HELD'
  | 'NOT_YET_A_YEAR'
  | 'LATE_PAYMENT_IN_YEAR'
  | 'NO_SUPPLY_YET'
  | 'ARREARS';

/**
 * Whether a held deposit may be refunded now, by its kind's rule; null when it may.
 * - large_user: held at least `largeUserRefundAfterMonths` and no late fee on a bill due in that time;
 * - household: once supply has started (the account has a bill);
 * - developer: once the account owes nothing (the transfer is settled).
 * A deposit can always be applied to arrears instead (with approval).
 */
export function depositRefundRefusal(
  deposit: { kind: DepositKind; status: 'held' | 'applied' | 'refunded'; heldSince: string },
  account: { today: string; billed: boolean; arrearsFen: number; lateFeeDueSince: string | null },
  settings: DepositSettings = DEPOSIT_DEFAULTS,
): DepositRefundRefusal | null {
  if (deposit.status !== 'held') return 'NOT_HELD';
  if (deposit.kind === 'large_user') {
    const since = addMonths(deposit.heldSince, settings.largeUserRefundAfterMonths);
    if (account.today < since) return 'NOT_YET_A_YEAR';
    const windowStart = addMonths(account.today, -settings.largeUserRefundAfterMonths);
    if (account.lateFeeDueSince !== null && account.lateFeeDueSince >= windowStart)
      return 'LATE_PAYMENT_IN_YEAR';
    return null;
  }
  if (deposit.kind === 'household') return account.billed ? null : 'NO_SUPPLY_YET';
  return account.arrearsFen > 0 ? 'ARREARS' : null;
}

/** A date `months` calendar months later (or earlier), the day kept or the month's last day. */
export function addMonths(isoDate: string, months: number): string {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) + months;
  const year = Math.floor(total / 12);
  const month = (total % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${year}-${String(month).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}
