import { ApiError, api } from '../api';
import { db, type PendingVisit } from '../db';
import { queuedVisits } from './store';
import type { VisitUploadResult } from './types';

/**
 * Sends the queued collection visits to POST /api/field/collection/visits, a few at a time. Every
 * retry sends the same clientVisitId, so a retry (or a second phone) never records a visit twice.
 * A network failure leaves them queued. Called by the outbox's sync run (sync/sync.ts).
 */

/** Visits per request (each may carry a photo and a signature). */
export const VISIT_BATCH = 5;
/** Bounds one run; the next run continues. */
export const VISIT_MAX_BATCHES = 40;

export interface VisitSyncCounts {
  sent: number;
  done: number;
  conflicts: number;
  rejected: number;
  error: string | null;
  networkDown: boolean;
}

function blobToDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

async function toUpload(v: PendingVisit) {
  const photo = v.photoId ? await db.blobs.get(v.photoId) : undefined;
  const signature = v.signatureId ? await db.blobs.get(v.signatureId) : undefined;
  return {
    clientVisitId: v.clientVisitId,
    accountId: v.accountId,
    taskId: v.taskId,
    method: v.method,
    outcome: v.outcome,
    reason: v.reason,
    signerName: v.signerName,
    promisedOn: v.promisedOn,
    phoneCall: v.phoneCall,
    site: v.site,
    visitedAt: v.visitedAt,
    latitude: v.latitude,
    longitude: v.longitude,
    accuracyM: v.accuracyM,
    photo: photo ? await blobToDataUrl(photo.blob) : null,
    signature: signature ? await blobToDataUrl(signature.blob) : null,
  };
}

function rejection(error: VisitUploadResult['error']): string {
  if (!error) return '';
  const fields = (error.fields ?? []).map((f) => f.message);
  return [error.message, ...fields].filter(Boolean).join('；');
}

export async function syncVisits(username: string | undefined, device: string): Promise<VisitSyncCounts> {
  const counts: VisitSyncCounts = {
    sent: 0,
    done: 0,
    conflicts: 0,
    rejected: 0,
    error: null,
    networkDown: false,
  };
  const mine = (await queuedVisits()).filter((v) => v.username === username);
  for (let i = 0, n = 0; i < mine.length && n < VISIT_MAX_BATCHES; i += VISIT_BATCH, n++) {
    const batch = mine.slice(i, i + VISIT_BATCH);
    await db.visitOutbox
      .where('clientVisitId')
      .anyOf(batch.map((b) => b.clientVisitId))
      .modify((v) => {
        v.attempts += 1;
      });
    const visits = [];
    for (const v of batch) visits.push(await toUpload(v));
    counts.sent += batch.length;
    try {
      const answer = await api<{ results: VisitUploadResult[] }>('/api/field/collection/visits', {
        method: 'POST',
        body: { deviceId: device, visits },
        timeoutMs: 60_000,
      });
      await db.transaction('rw', db.visitOutbox, async () => {
        for (const r of answer.results ?? []) {
          if (r.result === 'rejected') {
            await db.visitOutbox.update(r.clientVisitId, {
              status: 'rejected',
              outcomeOfUpload: 'rejected',
              error: rejection(r.error),
            });
            counts.rejected++;
          } else {
            await db.visitOutbox.update(r.clientVisitId, {
              status: 'done',
              outcomeOfUpload: r.result,
              visitId: r.visitId ?? null,
              error: null,
            });
            counts.done++;
            if (r.result === 'conflict') counts.conflicts++;
          }
        }
      });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      counts.error = e.message;
      counts.networkDown = e.isNetwork;
      for (const v of batch) await db.visitOutbox.update(v.clientVisitId, { error: e.message });
      break;
    }
  }
  return counts;
}
