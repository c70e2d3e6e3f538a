import { api } from '../api';
import { db, setMeta } from '../db';
import { deviceId } from '../sync/sync';
import type { CollectionDownload } from './types';

/**
 * The day's collection list on the phone: downloaded once (with the network), then worked offline.
 * Visits in the outbox are never touched by a download.
 */
export async function downloadCollection(date: string): Promise<CollectionDownload> {
  const device = await deviceId();
  const data = await api<CollectionDownload>(
    `/api/field/collection?date=${encodeURIComponent(date)}&deviceId=${encodeURIComponent(device)}`,
  );
  const workDate = data.workDate ?? date;
  await db.transaction('rw', [db.collectTasks, db.meta], async () => {
    await db.collectTasks.clear();
    await db.collectTasks.bulkPut(
      data.customers.map((c, pos) => ({ ...c, key: `${c.accountId}:${c.taskId}`, workDate, pos })),
    );
    await setMeta('collectDate', workDate);
    await setMeta('collectDownloadedAt', new Date().toISOString());
  });
  return data;
}

/** Visits still to be sent. */
export function queuedVisits() {
  return db.visitOutbox.where('status').equals('queued').sortBy('savedSeq');
}
