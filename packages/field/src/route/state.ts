import { parseAddress } from '@meterline/domain/customers/address';
import { isConflict, type PendingReading, type StoredMeter } from '../db';

/** What the route list shows for one meter. */
export type MeterProgress = 'todo' | 'read' | 'flagged' | 'noAccess';
export type MeterSync = 'queued' | 'synced' | 'conflict' | 'rejected' | null;

export interface MeterStatus {
  progress: MeterProgress;
  sync: MeterSync;
  /** The reading that counts for this meter today (the latest one saved). */
  reading: PendingReading | null;
}

const REVIEW_FLAGS = new Set(['BELOW_PREVIOUS', 'ROLLOVER', 'HIGH', 'LOW']);

export function isFlagged(r: PendingReading): boolean {
  return (
    r.localFlags.some((f) => REVIEW_FLAGS.has(f)) ||
    r.anomalyCodes.length > 0 ||
    r.outcome === 'review' ||
    isConflict(r)
  );
}

/** The latest reading of each meter on the work date (a rejected one that was corrected is skipped). */
export function latestByMeter(
  readings: PendingReading[],
  workDate: string | null,
): Map<string, PendingReading> {
  const out = new Map<string, PendingReading>();
  for (const r of readings) {
    if (r.workDate !== workDate || r.status === 'replaced') continue;
    const seen = out.get(r.meterKey);
    if (!seen || seen.savedSeq < r.savedSeq) out.set(r.meterKey, r);
  }
  return out;
}

export function statusOf(reading: PendingReading | null | undefined): MeterStatus {
  if (!reading) return { progress: 'todo', sync: null, reading: null };
  const progress: MeterProgress = reading.noAccess ? 'noAccess' : isFlagged(reading) ? 'flagged' : 'read';
  const sync: MeterSync =
    reading.status === 'queued'
      ? 'queued'
      : reading.status === 'rejected'
        ? 'rejected'
        : isConflict(reading)
          ? 'conflict'
          : 'synced';
  return { progress, sync, reading };
}

/** Route order: as the server sent the route (its books in order, then each book's route sequence). */
export function inRouteOrder(meters: StoredMeter[]): StoredMeter[] {
  return [...meters].sort((a, b) => a.pos - b.pos);
}

/** The building a meter is in ("幸福小区3栋"), for a confirmation sheet signed per building. */
export function buildingOf(address: string): string {
  const a = parseAddress(address);
  if (a.building) return `${a.district}${a.community}${a.building}栋`;
  return address;
}
