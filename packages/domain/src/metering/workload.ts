import type { ZoneClass } from './zones.ts';

/**
 * Reader workload and rotation (DOMAIN.md §3): at most 16 working days a month of reading in
 * concentrated areas, 18 in dispersed ones; minimum meters a day by kind of meter; nobody keeps the
 * same area longer than 2 years. Offices may change every figure.
 */

export type MeterCategory = 'cde_wall' | 'cde_buried' | 'ab_resettlement' | 'ab_dispersed' | 'zone0';
export type AreaType = 'concentrated' | 'dispersed';

export interface WorkloadConfig {
  /** Minimum meters read per day, by category. */
  metersPerDay: Record<MeterCategory, number>;
  /** Most working days a month a reader may spend reading. */
  maxDaysPerMonth: Record<AreaType, number>;
  /** Longest time on one area, and how long before it the warning comes. */
  rotationMonths: number;
  rotationWarnMonths: number;
}

export const DEFAULT_WORKLOAD_CONFIG: WorkloadConfig = {
  metersPerDay: { cde_wall: 150, cde_buried: 100, ab_resettlement: 60, ab_dispersed: 40, zone0: 30 },
  maxDaysPerMonth: { concentrated: 16, dispersed: 18 },
  rotationMonths: 24,
  rotationWarnMonths: 2,
};

export function meterCategory(m: {
  zoneClass: ZoneClass;
  mounting: string;
  resettlement: boolean;
}): MeterCategory {
  if (m.zoneClass === '0') return 'zone0';
  if (m.zoneClass === 'AB') return m.resettlement ? 'ab_resettlement' : 'ab_dispersed';
  // Household meters: buried ones (in wells) take longer than wall-mounted ones.
  return m.mounting === 'buried' || m.mounting === 'well' ? 'cde_buried' : 'cde_wall';
}

/** Working days needed to read these meters at the daily minimums (partial days count as days). */
export function readingDays(
  counts: Partial<Record<MeterCategory, number>>,
  config: WorkloadConfig = DEFAULT_WORKLOAD_CONFIG,
): number {
  let days = 0;
  for (const [category, count] of Object.entries(counts) as [MeterCategory, number][]) {
    if (count < 0) throw new Error('a meter count is never negative');
    days += count / config.metersPerDay[category];
  }
  // A tiny tolerance so 300 wall meters at 150 a day are 2 days, not 3 from rounding noise.
  return Math.ceil(days - 1e-9);
}

export interface WorkloadVerdict {
  days: number;
  limit: number;
  over: boolean;
}

export function monthlyWorkload(
  days: number,
  area: AreaType,
  config: WorkloadConfig = DEFAULT_WORKLOAD_CONFIG,
): WorkloadVerdict {
  const limit = config.maxDaysPerMonth[area];
  return { days, limit, over: days > limit };
}

function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number);
  const total = y! * 12 + (m! - 1) + months;
  const year = Math.floor(total / 12);
  const month = (total % 12) + 1;
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${year}-${String(month).padStart(2, '0')}-${String(Math.min(d!, lastDay)).padStart(2, '0')}`;
}

export interface RotationStatus {
  /** The day the reader reaches the longest time on the area. */
  dueOn: string;
  /** From this day on, the office is warned. */
  warnFrom: string;
  status: 'ok' | 'warn' | 'over';
}

/** Where a reader stands against the 2-year rotation rule on an area held since `since`. */
export function rotationStatus(
  since: string,
  today: string,
  config: WorkloadConfig = DEFAULT_WORKLOAD_CONFIG,
): RotationStatus {
  const dueOn = addMonths(since, config.rotationMonths);
  const warnFrom = addMonths(dueOn, -config.rotationWarnMonths);
  return { dueOn, warnFrom, status: today >= dueOn ? 'over' : today >= warnFrom ? 'warn' : 'ok' };
}
