/**
 * Reading zones and cycles (DOMAIN.md §3):
 * - zone 0: caliber DN40 and above (large meters), read every month;
 * - zones A/B: below DN40, and resettlement housing (安置房), every 2 months;
 * - zones C/D/E: household meters (户表), every 3 months.
 * The letter is the phase of the cycle: A odd months, B even; C in months 1, 4, 7, 10, D in 2, 5, 8,
 * 11, E in 3, 6, 9, 12. A book carries one zone; its meters must be of that zone's class.
 */

export const ZONES = ['0', 'A', 'B', 'C', 'D', 'E'] as const;
export type Zone = (typeof ZONES)[number];
export type ZoneClass = '0' | 'AB' | 'CDE';

export interface ZoneConfig {
  /** Meters of this caliber and above are large meters (zone 0). */
  largeMeterMinDn: number;
  /** Months between readings, by zone class. */
  cycleMonths: Record<ZoneClass, number>;
}

export const DEFAULT_ZONE_CONFIG: ZoneConfig = {
  largeMeterMinDn: 40,
  cycleMonths: { '0': 1, AB: 2, CDE: 3 },
};

export interface MeterForZone {
  caliberDn: number | null;
  /** A household meter (户表): a residential customer's own meter, not a master meter. */
  household: boolean;
  /** Resettlement housing (安置房). */
  resettlement: boolean;
}

export function zoneClassForMeter(meter: MeterForZone, config: ZoneConfig = DEFAULT_ZONE_CONFIG): ZoneClass {
  if (meter.caliberDn !== null && meter.caliberDn >= config.largeMeterMinDn) return '0';
  if (meter.resettlement) return 'AB';
  return meter.household ? 'CDE' : 'AB';
}

export function zoneClassOf(zone: Zone): ZoneClass {
  return zone === '0' ? '0' : zone === 'A' || zone === 'B' ? 'AB' : 'CDE';
}

export function readingCycleMonths(zoneClass: ZoneClass, config: ZoneConfig = DEFAULT_ZONE_CONFIG): number {
  return config.cycleMonths[zoneClass];
}

/** The phase (0-based) of a zone within its cycle: A, C → 0; B, D → 1; E → 2. */
function phaseOf(zone: Zone): number {
  return zone === 'B' || zone === 'D' ? 1 : zone === 'E' ? 2 : 0;
}

/** Whether a book of this zone is read in calendar month `month` (1–12). */
export function isReadingMonth(zone: Zone, month: number, config: ZoneConfig = DEFAULT_ZONE_CONFIG): boolean {
  const cycle = readingCycleMonths(zoneClassOf(zone), config);
  return (month - 1) % cycle === phaseOf(zone) % cycle;
}
