import { ApiError, api, newUuid } from '../api';
import { queuedVisits } from '../collect/store';
import { syncVisits } from '../collect/visitSync';
import { db, getMeta, isConflict, type PendingReading, queuedReadings, setMeta } from '../db';
import i18n from '../i18n';
import { syncOrderResults } from '../orders/orderSync';
import { queuedOrderResults } from '../orders/store';
import type { UploadReading, UploadResult } from '../types';
import { blobToDataUrl } from './queuedUpload';

/**
 * The outbox: readings are saved on the phone first and sent in batches to POST
 * /api/field/readings whenever there is a network. Each reading keeps its clientId on every
 * retry, so a retry (or a second phone) never records it twice: the server answers `duplicate`
 * with the first result. A network failure leaves the readings queued.
 */

/** Readings per request. */
export const SYNC_BATCH_READINGS = 20;
/** Bytes per request (photos are ~100–300 kB each): a lost answer costs little to resend. */
export const SYNC_BATCH_BYTES = 3_000_000;
/** Bounds one sync run (20 × 50 = 1,000 readings); the next run continues. */
export const SYNC_MAX_BATCHES = 50;
/** Automatic sync while there is something queued. */
export const SYNC_INTERVAL_MS = 60_000;

export interface SyncReport {
  trigger: string;
  sent: number;
  done: number;
  conflicts: number;
  rejected: number;
  /** Readings of another reader who used this phone (uploaded only under their session). */
  othersWaiting: number;
  /** Why the run stopped early (network, session, server error); readings stay queued. */
  error: string | null;
  networkDown: boolean;
}

/** This phone's id, sent with every download and upload. */
export async function deviceId(): Promise<string> {
  const existing = await getMeta<string>('deviceId');
  if (existing) return existing;
  const id = `web-${newUuid()}`;
  await setMeta('deviceId', id);
  return id;
}

async function toUpload(r: PendingReading): Promise<UploadReading> {
  const row: UploadReading = {
    clientId: r.clientId,
    accountId: r.accountId,
    meterId: r.meterId,
    index: r.index,
    readAt: r.readAt,
    anomalyCodes: r.anomalyCodes,
    note: r.note,
    latitude: r.latitude,
    longitude: r.longitude,
    accuracyM: r.accuracyM,
  };
  if (r.photoId) {
    const photo = await db.blobs.get(r.photoId);
    if (photo) row.photo = await blobToDataUrl(photo.blob);
  }
  if (r.signatureId) {
    const signature = await db.blobs.get(r.signatureId);
    if (signature) {
      row.signature = await blobToDataUrl(signature.blob);
      row.signerName = r.signerName;
    }
  }
  return row;
}

function errorText(error: UploadResult['error']): string {
  if (!error) return i18n.t('sync.rejectedNoReason');
  if (typeof error === 'string') return error;
  return error.message ?? error.code ?? i18n.t('sync.rejectedNoReason');
}

/** Marks the readings of one answer; a reading the answer does not mention stays queued. */
async function applyResults(batch: PendingReading[], results: UploadResult[], report: SyncReport) {
  const byId = new Map(results.map((r) => [r.clientId, r]));
  await db.transaction('rw', db.outbox, async () => {
    for (const item of batch) {
      const result = byId.get(item.clientId);
      if (!result) continue;
      const common = {
        outcome: result.outcome,
        serverFlags: (result.flags ?? []).map(String),
        readingId: result.readingId === undefined ? null : String(result.readingId),
        serverStatus: result.status ?? (result.outcome === 'duplicate' ? null : result.outcome),
      };
      if (result.outcome === 'rejected') {
        await db.outbox.update(item.clientId, {
          ...common,
          status: 'rejected',
          error: errorText(result.error),
        });
        report.rejected++;
      } else {
        await db.outbox.update(item.clientId, { ...common, status: 'done', error: null });
        report.done++;
        if (isConflict(common)) report.conflicts++;
      }
    }
  });
}

async function markAttempt(batch: PendingReading[]) {
  const at = new Date().toISOString();
  await db.transaction('rw', db.outbox, async () => {
    await db.outbox
      .where('clientId')
      .anyOf(batch.map((b) => b.clientId))
      .modify((r) => {
        r.attempts += 1;
        r.lastAttemptAt = at;
      });
  });
}

async function markError(batch: PendingReading[], message: string) {
  await db.transaction('rw', db.outbox, async () => {
    for (const item of batch) await db.outbox.update(item.clientId, { error: message });
  });
}

type SendResult = 'ok' | 'stop';

/** Sends one batch; on a refused body it retries the readings one by one to find the bad one. */
async function sendBatch(batch: PendingReading[], device: string, report: SyncReport): Promise<SendResult> {
  // Marked before it is read for sending: from now on the reading is never changed in place.
  await markAttempt(batch);
  const readings: UploadReading[] = [];
  for (const item of batch) {
    const fresh = await db.outbox.get(item.clientId);
    if (fresh) readings.push(await toUpload(fresh));
  }
  report.sent += batch.length;
  try {
    const answer = await api<{ results: UploadResult[] }>('/api/field/readings', {
      method: 'POST',
      body: { deviceId: device, readings },
      timeoutMs: 60_000,
    });
    await applyResults(batch, answer.results ?? [], report);
    return 'ok';
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.isNetwork) {
      report.networkDown = true;
      report.error = e.message;
      await markError(batch, e.message);
      return 'stop';
    }
    if (e.status === 401 || e.status === 403) {
      report.error = e.message;
      await markError(batch, e.message);
      return 'stop';
    }
    if ((e.status === 400 || e.status === 413) && batch.length > 1) {
      // The server refuses a malformed body whole: send each reading alone to find the bad one.
      report.sent -= batch.length;
      for (const item of batch) {
        const fresh = await db.outbox.get(item.clientId);
        if (fresh?.status !== 'queued') continue;
        if ((await sendBatch([fresh], device, report)) === 'stop') return 'stop';
      }
      return 'ok';
    }
    if (e.status === 400 || e.status === 413) {
      const only = batch[0]!;
      await db.outbox.update(only.clientId, { status: 'rejected', outcome: 'rejected', error: e.message });
      report.rejected++;
      return 'ok';
    }
    // 409, 5xx: the server could not take it now; everything stays queued for the next run.
    report.error = e.message;
    await markError(batch, e.message);
    return 'stop';
  }
}

function batches(items: PendingReading[], sizes: Map<string, number>): PendingReading[][] {
  const out: PendingReading[][] = [];
  let current: PendingReading[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizes.get(item.clientId) ?? 2_000;
    if (current.length > 0 && (current.length >= SYNC_BATCH_READINGS || bytes + size > SYNC_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
}

async function runSync(trigger: string): Promise<SyncReport> {
  const report: SyncReport = {
    trigger,
    sent: 0,
    done: 0,
    conflicts: 0,
    rejected: 0,
    othersWaiting: 0,
    error: null,
    networkDown: false,
  };
  const username = await getMeta<string>('username');
  const queued = await queuedReadings();
  const mine = queued.filter((r) => r.username === username);
  report.othersWaiting = queued.length - mine.length;
  const visitsWaiting = (await queuedVisits()).some((v) => v.username === username);
  const ordersWaiting = (await queuedOrderResults()).some((r) => r.username === username);
  if (mine.length === 0 && !visitsWaiting && !ordersWaiting) return report;
  const sizes = new Map<string, number>();
  for (const item of mine) {
    let size = 2_000;
    for (const id of [item.photoId, item.signatureId]) {
      if (!id) continue;
      const blob = await db.blobs.get(id);
      if (blob) size += Math.ceil((blob.blob.size * 4) / 3) + 100;
    }
    sizes.set(item.clientId, size);
  }
  const device = await deviceId();
  for (const batch of batches(mine, sizes).slice(0, SYNC_MAX_BATCHES)) {
    if ((await sendBatch(batch, device, report)) === 'stop') break;
  }
  // Collection visits (催缴走访, collect/visitSync.ts), after the readings.
  if (visitsWaiting && !report.networkDown) {
    const visits = await syncVisits(username, device);
    report.sent += visits.sent;
    report.done += visits.done;
    report.conflicts += visits.conflicts;
    report.rejected += visits.rejected;
    if (visits.error) report.error = visits.error;
    if (visits.networkDown) report.networkDown = true;
  }
  // Work-order results and re-checks (停复水工单, orders/orderSync.ts), after the visits.
  if (ordersWaiting && !report.networkDown) {
    const orders = await syncOrderResults(username, device);
    report.sent += orders.sent;
    report.done += orders.done;
    report.conflicts += orders.conflicts;
    report.rejected += orders.rejected;
    if (orders.error) report.error = orders.error;
    if (orders.networkDown) report.networkDown = true;
  }
  await db.syncLog.add({
    at: new Date().toISOString(),
    trigger,
    sent: report.sent,
    done: report.done,
    conflicts: report.conflicts,
    rejected: report.rejected,
    error: report.error,
  });
  // Keep the log bounded.
  const count = await db.syncLog.count();
  if (count > 200) {
    const old = await db.syncLog
      .orderBy('id')
      .limit(count - 200)
      .primaryKeys();
    await db.syncLog.bulkDelete(old);
  }
  return report;
}

// ---- one sync at a time (also across tabs), with a tiny store the UI subscribes to

let running: Promise<SyncReport> | null = null;
let lastReport: SyncReport | null = null;
const listeners = new Set<() => void>();

function notify() {
  for (const l of listeners) l();
}

export function subscribeSync(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function syncState(): { running: boolean; last: SyncReport | null } {
  return snapshot;
}
let snapshot: { running: boolean; last: SyncReport | null } = { running: false, last: null };

function setSnapshot() {
  snapshot = { running: running !== null, last: lastReport };
  notify();
}

export function syncNow(trigger: string): Promise<SyncReport> {
  if (running) return running;
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  const work = () => runSync(trigger);
  running = (locks ? (locks.request('meterline-field-sync', work) as Promise<SyncReport>) : work())
    .catch(
      (e): SyncReport => ({
        trigger,
        sent: 0,
        done: 0,
        conflicts: 0,
        rejected: 0,
        othersWaiting: 0,
        error: String(e),
        networkDown: false,
      }),
    )
    .then((report) => {
      lastReport = report;
      return report;
    })
    .finally(() => {
      running = null;
      setSnapshot();
    });
  setSnapshot();
  return running;
}

/** Syncs on the `online` event, periodically while something is queued, and at start. */
export function startAutoSync(): () => void {
  const tryNow = (trigger: string) => {
    if (!navigator.onLine) return;
    void Promise.all([queuedReadings(), queuedVisits(), queuedOrderResults()]).then(([q, v, o]) => {
      if (q.length > 0 || v.length > 0 || o.length > 0) void syncNow(trigger).catch(() => undefined);
    });
  };
  const onOnline = () => tryNow('online');
  window.addEventListener('online', onOnline);
  const timer = window.setInterval(() => tryNow('timer'), SYNC_INTERVAL_MS);
  tryNow('start');
  return () => {
    window.removeEventListener('online', onOnline);
    window.clearInterval(timer);
  };
}
