import { Decimal } from 'decimal.js';

/**
 * Estimated reads (估表) when there is no access (DOMAIN.md §3): the customer's own history
 * decides — the same period last year when it exists (seasons matter for water and gas),
 * otherwise the average daily use of recent readings — times the days of the period.
 */

export interface PastPeriod {
  /** Last day of the period, YYYY-MM-DD. */
  periodEnd: string;
  days: number;
  consumptionM3: string;
  estimated: boolean;
}

export interface Estimate {
  consumptionM3: string;
  basis: 'same_period_last_year' | 'recent_average' | 'no_history';
}

/** Recent actual periods averaged when last year is missing. */
export const RECENT_PERIODS = 3;

function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

export function estimateConsumption(history: PastPeriod[], periodEnd: string, periodDays: number): Estimate {
  if (periodDays <= 0) throw new Error('a period has at least one day');
  const actual = history.filter((p) => !p.estimated && p.days > 0);
  // A period ending 335–395 days before this one is "the same period last year".
  const lastYear = actual.find((p) => Math.abs(daysBetween(p.periodEnd, periodEnd) - 365) <= 30);
  const daily = (ps: PastPeriod[]) => {
    const volume = ps.reduce((s, p) => s.plus(p.consumptionM3), new Decimal(0));
    const days = ps.reduce((s, p) => s + p.days, 0);
    return volume.div(days);
  };
  if (lastYear) {
    return {
      consumptionM3: daily([lastYear]).times(periodDays).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toFixed(3),
      basis: 'same_period_last_year',
    };
  }
  const recent = [...actual].sort((a, b) => b.periodEnd.localeCompare(a.periodEnd)).slice(0, RECENT_PERIODS);
  if (recent.length === 0) return { consumptionM3: '0.000', basis: 'no_history' };
  return {
    consumptionM3: daily(recent).times(periodDays).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toFixed(3),
    basis: 'recent_average',
  };
}

/** After this many estimates in a row, the next reading must be a visit (configurable). */
export function visitForced(consecutiveEstimates: number, limit: number): boolean {
  return consecutiveEstimates >= limit;
}
