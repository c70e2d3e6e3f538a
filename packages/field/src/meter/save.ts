import { newUuid } from '../api';
import type { Fix } from '../capture/gps';
import { db, getMeta, type PendingReading, type StoredMeter } from '../db';
import { syncNow } from '../sync/sync';

export interface ReadingDraft {
  index: string | null;
  consumptionM3: string | null;
  localFlags: string[];
  confirmed: boolean;
  noAccess: boolean;
  anomalyCodes: string[];
  note: string;
  /** A new photo, or the id of the one the previous draft of this reading already had. */
  photo: Blob | null;
  keptPhotoId: string | null;
  fix: Fix;
}

/**
 * Puts a reading in the outbox. A reading that was never sent is corrected in place (same
 * clientId); one that was sent, even without an answer, is never changed: the correction is a new
 * reading with a new clientId, which the server keeps as a conflict for the analyst to decide.
 * A rejected reading is replaced by its correction.
 */
export async function saveReading(
  meter: StoredMeter,
  draft: ReadingDraft,
  previous: PendingReading | null,
): Promise<PendingReading> {
  const username = (await getMeta<string>('username')) ?? '';
  const now = new Date().toISOString();
  let saved: PendingReading | null = null;
  await db.transaction('rw', [db.outbox, db.blobs], async () => {
    // Decided inside the transaction: a sync may have just sent the previous draft.
    const current = previous ? ((await db.outbox.get(previous.clientId)) ?? null) : null;
    const editInPlace = current !== null && current.status === 'queued' && current.attempts === 0;
    const lastSeq = await db.outbox.orderBy('savedSeq').last();
    let photoId = draft.keptPhotoId;
    if (draft.photo) {
      photoId = newUuid();
      await db.blobs.put({ id: photoId, kind: 'photo', blob: draft.photo, createdAt: now });
    }
    if (editInPlace && current.photoId && current.photoId !== photoId) await db.blobs.delete(current.photoId);
    if (current && !editInPlace && current.status === 'rejected') {
      await db.outbox.update(current.clientId, { status: 'replaced' });
    }
    saved = {
      clientId: editInPlace ? current.clientId : newUuid(),
      username,
      workDate: meter.workDate,
      meterKey: meter.key,
      accountId: meter.accountId,
      meterId: meter.meterId,
      bookId: meter.bookId,
      meterNo: meter.meterNo,
      customerName: meter.customerName,
      address: meter.address,
      previousIndex: meter.previousIndex,
      index: draft.noAccess ? null : draft.index,
      consumptionM3: draft.noAccess ? null : draft.consumptionM3,
      localFlags: draft.noAccess ? [] : draft.localFlags,
      confirmed: draft.confirmed,
      noAccess: draft.noAccess,
      anomalyCodes: draft.anomalyCodes,
      note: draft.note.trim(),
      readAt: now,
      latitude: draft.fix.latitude,
      longitude: draft.fix.longitude,
      accuracyM: draft.fix.accuracyM,
      gpsStatus: draft.fix.status === 'pending' ? 'timeout' : draft.fix.status,
      photoId,
      // A sheet signed for the earlier index does not confirm this one: sign again if needed.
      signatureId: null,
      signerName: '',
      status: 'queued',
      attempts: 0,
      lastAttemptAt: null,
      outcome: null,
      serverFlags: [],
      readingId: null,
      error: null,
      createdAt: now,
      savedSeq: (lastSeq?.savedSeq ?? 0) + 1,
    };
    await db.outbox.put(saved);
  });
  if (navigator.onLine) void syncNow('save').catch(() => undefined);
  return saved!;
}
