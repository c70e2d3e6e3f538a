/** Meter attributes of DOMAIN.md §2. */
export const UTILITIES = ['water', 'gas', 'catv'] as const;
export type Utility = (typeof UTILITIES)[number];

/** Water meter calibers, DN millimetres. */
export const CALIBERS_DN = [15, 20, 25, 32, 40, 50, 65, 80, 100, 150, 200, 250, 300] as const;
export type CaliberDn = (typeof CALIBERS_DN)[number];

export const METER_ROLES = ['settlement', 'assessment', 'standpipe', 'fire', 'internal', 'master'] as const;
export type MeterRole = (typeof METER_ROLES)[number];

export const MOUNTINGS = ['wall', 'buried', 'indoor', 'well'] as const;
export type Mounting = (typeof MOUNTINGS)[number];

export const METER_DIRECTIONS = ['forward', 'reverse'] as const;

export const METER_STATES = ['in_service', 'removed'] as const;

/** Gas: a prepaid IC-card smart meter is mandatory above this floor (DOMAIN.md §2), configurable. */
export function icCardRequired(utility: Utility, floor: number | null, minFloorExclusive: number): boolean {
  return utility === 'gas' && floor !== null && floor > minFloorExclusive;
}

/** Gas meters carry a flow rating (m³/h) instead of a caliber; water meters carry a caliber. */
export function meterSizeProblem(
  utility: Utility,
  caliberDn: number | null,
  flowRatingM3h: string | null,
): 'CALIBER_REQUIRED' | 'FLOW_RATING_REQUIRED' | 'CALIBER_UNKNOWN' | null {
  if (utility === 'water') {
    if (caliberDn === null) return 'CALIBER_REQUIRED';
    if (!(CALIBERS_DN as readonly number[]).includes(caliberDn)) return 'CALIBER_UNKNOWN';
  }
  if (utility === 'gas' && (flowRatingM3h === null || flowRatingM3h === '')) return 'FLOW_RATING_REQUIRED';
  return null;
}
