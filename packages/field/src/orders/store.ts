import { api } from '../api';
import { db, setMeta } from '../db';
import { deviceId } from '../sync/sync';
import type { FieldOrdersDownload } from './types';

/**
 * The work orders and re-checks on the phone: downloaded with the network, then worked offline.
 * Results in the outbox are never touched by a download.
 */
export async function downloadOrders(): Promise<FieldOrdersDownload> {
  const device = await deviceId();
  const data = await api<FieldOrdersDownload>(`/api/field/orders?deviceId=${encodeURIComponent(device)}`);
  await db.transaction('rw', [db.fieldOrders, db.meta], async () => {
    await db.fieldOrders.clear();
    await db.fieldOrders.bulkPut([
      ...data.orders.map((order, pos) => ({
        key: `${order.kind}:${order.accountId}:${order.orderId}`,
        kind: order.kind,
        pos,
        order,
        recheck: null,
      })),
      ...data.rechecks.map((recheck, i) => ({
        key: `recheck:${recheck.accountId}:${recheck.orderId}`,
        kind: 'recheck' as const,
        pos: data.orders.length + i,
        order: null,
        recheck,
      })),
    ]);
    await setMeta('ordersDownloadedAt', data.downloadedAt);
  });
  return data;
}

/** Results still to be sent. */
export function queuedOrderResults() {
  return db.orderOutbox.where('status').equals('queued').sortBy('savedSeq');
}
