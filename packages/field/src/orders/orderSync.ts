import { db, type PendingOrderResult } from '../db';
import { blobToDataUrl, type UploadCounts, uploadQueued } from '../sync/queuedUpload';
import { queuedOrderResults } from './store';
import type { OrderUploadResult } from './types';

/**
 * Sends the queued work-order results and re-checks to POST /api/field/orders/results, a few at a
 * time. Every retry sends the same clientResultId, so a retry (or a second phone) never records a
 * result twice. A network failure leaves them queued. Called by the outbox's sync run (sync/sync.ts).
 */

/** Results per request (each may carry a photo). */
export const ORDER_RESULT_BATCH = 5;
/** Bounds one run; the next run continues. */
export const ORDER_RESULT_MAX_BATCHES = 20;

export type OrderSyncCounts = UploadCounts;

async function toUpload(r: PendingOrderResult) {
  const photo = r.photoId ? await db.blobs.get(r.photoId) : undefined;
  return {
    clientResultId: r.clientResultId,
    kind: r.kind,
    accountId: r.accountId,
    orderId: r.orderId,
    outcome: r.outcome,
    action: r.action,
    confirmedMeterNo: r.confirmedMeterNo,
    note: r.note,
    recordedAt: r.recordedAt,
    latitude: r.latitude,
    longitude: r.longitude,
    accuracyM: r.accuracyM,
    photo: photo ? await blobToDataUrl(photo.blob) : null,
  };
}

export async function syncOrderResults(
  username: string | undefined,
  device: string,
): Promise<OrderSyncCounts> {
  return uploadQueued<PendingOrderResult, OrderUploadResult, 'clientResultId'>({
    queued: (await queuedOrderResults()).filter((r) => r.username === username),
    table: db.orderOutbox,
    key: 'clientResultId',
    batchSize: ORDER_RESULT_BATCH,
    maxBatches: ORDER_RESULT_MAX_BATCHES,
    url: '/api/field/orders/results',
    bodyKey: 'results',
    device,
    toUpload,
    accepted: (r) => {
      const conflict = r.result === 'conflict' || r.conflict === true;
      return { changes: { conflict, resultId: r.resultId ?? null }, conflict };
    },
  });
}
