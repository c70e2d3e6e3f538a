import { DEFAULT_READING_THRESHOLDS, type ReadingThresholds } from '@meterline/domain/metering/readingCheck';
import { api } from '../api';
import { db, meterKey, queuedReadings, setMeta } from '../db';
import { deviceId, syncNow } from '../sync/sync';
import type { RouteDownload } from '../types';

/** Finished readings (and their photos) are kept on the phone this long after their day. */
export const KEEP_DONE_DAYS = 7;

/** The thresholds of the download, each one checked, the defaults of DOMAIN.md §3 for the rest. */
export function thresholdsFrom(raw: RouteDownload['thresholds'] | undefined): ReadingThresholds {
  const out: ReadingThresholds = { ...DEFAULT_READING_THRESHOLDS };
  for (const key of Object.keys(out) as (keyof ReadingThresholds)[]) {
    const value = Number(raw?.[key]);
    if (raw?.[key] !== undefined && raw[key] !== null && Number.isFinite(value) && value >= 0)
      out[key] = value;
  }
  return out;
}

/**
 * The morning download: uploads what is queued first (the server refuses a new day while earlier
 * meters have neither a reading nor a no-access entry), then replaces the route on the phone.
 * Readings in the outbox are never touched by a download.
 */
export async function downloadRoute(date: string): Promise<RouteDownload> {
  if ((await queuedReadings()).length > 0) await syncNow('download');
  const device = await deviceId();
  const data = await api<RouteDownload>(
    `/api/field/route?date=${encodeURIComponent(date)}&deviceId=${encodeURIComponent(device)}`,
  );
  const workDate = data.workDate ?? date;
  await db.transaction('rw', [db.meters, db.books, db.anomalyCodes, db.thresholds, db.meta], async () => {
    await db.meters.clear();
    await db.books.clear();
    await db.anomalyCodes.clear();
    await db.meters.bulkPut(
      data.meters.map((m, pos) => ({
        ...m,
        pos,
        previousIndex: String(m.previousIndex ?? '0'),
        dialDigits: m.dialDigits || 5,
        key: meterKey(m.accountId, m.meterId),
        workDate,
      })),
    );
    await db.books.bulkPut(data.books.map((b) => ({ ...b, workDate })));
    await db.anomalyCodes.bulkPut((data.anomalyCodes ?? []).map((c, pos) => ({ ...c, pos })));
    await db.thresholds.put({ ...thresholdsFrom(data.thresholds), id: 'current', workDate });
    await setMeta('workDate', workDate);
    await setMeta('downloadedAt', new Date().toISOString());
  });
  await pruneOld(workDate);
  return data;
}

async function pruneOld(workDate: string) {
  const cutoff = new Date(Date.parse(`${workDate}T00:00:00Z`) - KEEP_DONE_DAYS * 86_400_000)
    .toISOString()
    .slice(0, 10);
  const old = await db.outbox
    .where('workDate')
    .below(cutoff)
    .filter((r) => r.status === 'done' || r.status === 'replaced')
    .toArray();
  const blobIds = old.flatMap((r) => [r.photoId, r.signatureId]).filter((x): x is string => !!x);
  await db.transaction('rw', [db.outbox, db.blobs], async () => {
    await db.outbox.bulkDelete(old.map((r) => r.clientId));
    // A signature is shared by the readings of one sheet: delete it only when none still uses it.
    for (const id of new Set(blobIds)) {
      const users = await db.outbox.filter((r) => r.photoId === id || r.signatureId === id).count();
      if (users === 0) await db.blobs.delete(id);
    }
  });
}
