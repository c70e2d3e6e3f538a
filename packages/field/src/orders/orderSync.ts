import { ApiError, api } from '../api';
import { db, type PendingOrderResult } from '../db';
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

export interface OrderSyncCounts {
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

function rejection(error: OrderUploadResult['error']): string {
  if (!error) return '';
  const fields = (error.fields ?? []).map((f) => f.message);
  return [error.message, ...fields].filter(Boolean).join('；');
}

export async function syncOrderResults(
  username: string | undefined,
  device: string,
): Promise<OrderSyncCounts> {
  const counts: OrderSyncCounts = {
    sent: 0,
    done: 0,
    conflicts: 0,
    rejected: 0,
    error: null,
    networkDown: false,
  };
  const mine = (await queuedOrderResults()).filter((r) => r.username === username);
  for (let i = 0, n = 0; i < mine.length && n < ORDER_RESULT_MAX_BATCHES; i += ORDER_RESULT_BATCH, n++) {
    const batch = mine.slice(i, i + ORDER_RESULT_BATCH);
    await db.orderOutbox
      .where('clientResultId')
      .anyOf(batch.map((b) => b.clientResultId))
      .modify((r) => {
        r.attempts += 1;
      });
    const results = [];
    for (const r of batch) results.push(await toUpload(r));
    counts.sent += batch.length;
    try {
      const answer = await api<{ results: OrderUploadResult[] }>('/api/field/orders/results', {
        method: 'POST',
        body: { deviceId: device, results },
        timeoutMs: 60_000,
      });
      await db.transaction('rw', db.orderOutbox, async () => {
        for (const r of answer.results ?? []) {
          if (r.result === 'rejected') {
            await db.orderOutbox.update(r.clientResultId, {
              status: 'rejected',
              outcomeOfUpload: 'rejected',
              error: rejection(r.error),
            });
            counts.rejected++;
          } else {
            const conflict = r.result === 'conflict' || r.conflict === true;
            await db.orderOutbox.update(r.clientResultId, {
              status: 'done',
              outcomeOfUpload: r.result,
              conflict,
              resultId: r.resultId ?? null,
              error: null,
            });
            counts.done++;
            if (conflict) counts.conflicts++;
          }
        }
      });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      counts.error = e.message;
      counts.networkDown = e.isNetwork;
      for (const r of batch) await db.orderOutbox.update(r.clientResultId, { error: e.message });
      break;
    }
  }
  return counts;
}
