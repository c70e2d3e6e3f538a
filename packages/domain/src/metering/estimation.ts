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

// ------------------------------------------------------------------ the same estimate in thousandths

/** A day as a number: days since 1970-01-01 (so the days between two are a subtraction). */
export function dayNumber(day: string): number {
  return Math.round(Date.parse(`${day}T00:00:00Z`) / 86_400_000);
}

/** The YYYY-MM-DD of a day number. */
export function dayText(dayNo: number): string {
  return new Date(dayNo * 86_400_000).toISOString().slice(0, 10);
}

/** A PastPeriod with its last day as a day number and its volume in whole thousandths of a m³. */
export interface PastPeriodMilli {
  endDay: number;
  days: number;
  consumptionMilli: number;
  estimated: boolean;
}

export interface EstimateMilli {
  consumptionMilli: number;
  basis: Estimate['basis'];
}

/**
 * estimateConsumption on whole thousandths and day numbers, for the smart-meter bulk path: the same
 * answer for every input (fastRules.test.ts checks it on random inputs). The volume is
 * volume × days ÷ period days rounded half up to a whole m³, worked out exactly in integers;
 * decimal.js rounds the quotient to its precision first, which changes the answer only on an exact
 * half (or past 10^(precision − 3)), and there the decimal version answers instead.
 */
export function estimateConsumptionMilli(
  history: readonly PastPeriodMilli[],
  periodEndDay: number,
  periodDays: number,
): EstimateMilli {
  if (periodDays <= 0) throw new Error('a period has at least one day');
  let lastYear: PastPeriodMilli | null = null;
  const actual: PastPeriodMilli[] = [];
  for (const p of history) {
    if (p.estimated || !(p.days > 0)) continue;
    actual.push(p);
    if (lastYear === null && Math.abs(periodEndDay - p.endDay - 365) <= 30) lastYear = p;
  }
  let volumeMilli = 0;
  let days = 0;
  let basis: Estimate['basis'];
  if (lastYear) {
    volumeMilli = lastYear.consumptionMilli;
    days = lastYear.days;
    basis = 'same_period_last_year';
  } else {
    if (actual.length === 0) return { consumptionMilli: 0, basis: 'no_history' };
    // Newest first by last day (a stable sort, as estimateConsumption's), the first RECENT_PERIODS.
    const recent = actual.length === 1 ? actual : [...actual].sort((a, b) => b.endDay - a.endDay);
    for (let i = 0; i < recent.length && i < RECENT_PERIODS; i++) {
      volumeMilli += recent[i]!.consumptionMilli;
      days += recent[i]!.days;
    }
    basis = 'recent_average';
  }
  // volume (m³) × periodDays ÷ days = numerator ÷ denominator, rounded half up to a whole m³.
  const numerator = volumeMilli * periodDays;
  const denominator = 1000 * days;
  const whole = Math.floor(numerator / denominator);
  const twiceRest = 2 * (numerator - whole * denominator);
  if (
    !Number.isSafeInteger(volumeMilli) ||
    !Number.isSafeInteger(days) ||
    !Number.isSafeInteger(periodDays) ||
    volumeMilli < 0 ||
    !Number.isSafeInteger(numerator) ||
    numerator >= 10 ** (Decimal.precision - 3) ||
    twiceRest === denominator
  ) {
    return fromDecimalEstimate(history, periodEndDay, periodDays);
  }
  return { consumptionMilli: (twiceRest > denominator ? whole + 1 : whole) * 1000, basis };
}

function fromDecimalEstimate(
  history: readonly PastPeriodMilli[],
  periodEndDay: number,
  periodDays: number,
): EstimateMilli {
  const e = estimateConsumption(
    history.map((p) => ({
      periodEnd: dayText(p.endDay),
      days: p.days,
      consumptionM3: new Decimal(p.consumptionMilli).div(1000).toFixed(),
      estimated: p.estimated,
    })),
    dayText(periodEndDay),
    periodDays,
  );
  return { consumptionMilli: Number(e.consumptionM3.replace('.', '')), basis: e.basis };
}
