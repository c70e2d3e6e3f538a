import { db, type PendingVisit } from '../db';
import { blobToDataUrl, type UploadCounts, uploadQueued } from '../sync/queuedUpload';
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

export type VisitSyncCounts = UploadCounts;

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

export async function syncVisits(username: string | undefined, device: string): Promise<VisitSyncCounts> {
  return uploadQueued<PendingVisit, VisitUploadResult, 'clientVisitId'>({
    queued: (await queuedVisits()).filter((v) => v.username === username),
    table: db.visitOutbox,
    key: 'clientVisitId',
    batchSize: VISIT_BATCH,
    maxBatches: VISIT_MAX_BATCHES,
    url: '/api/field/collection/visits',
    bodyKey: 'visits',
    device,
    toUpload,
    accepted: (r) => ({ changes: { visitId: r.visitId ?? null }, conflict: r.result === 'conflict' }),
  });
}
