import type { EntityTable } from 'dexie';
import { ApiError, api } from '../api';

/**
 * What the handheld's queued uploads share (readings, collection visits, work-order results): blobs
 * sent as data URLs, and the batch loop that sends queued rows a few at a time with their client
 * ids — so a retry (or a second phone) never records anything twice — marks each answer on its row,
 * and leaves the rest queued on a network failure.
 */

export function blobToDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

export interface UploadCounts {
  sent: number;
  done: number;
  conflicts: number;
  rejected: number;
  error: string | null;
  networkDown: boolean;
}

/** One row's answer from the server: recorded (maybe as a conflict), a duplicate, or rejected. */
export interface UploadAnswer {
  result: string;
  error?: { message: string; fields?: { message: string }[] } | null;
}

function rejectionText(error: UploadAnswer['error']): string {
  if (!error) return '';
  const fields = (error.fields ?? []).map((f) => f.message);
  return [error.message, ...fields].filter(Boolean).join('；');
}

export interface QueuedUpload<P, A extends UploadAnswer, K extends keyof P & keyof A & string> {
  /** The rows to send, in order. */
  queued: readonly P[];
  table: EntityTable<P, K>;
  /** The row's client id: its key in `table` and in the server's answer. */
  key: K;
  batchSize: number;
  /** Bounds one run; the next run continues. */
  maxBatches: number;
  url: string;
  /** The body's field holding the batch (`{ deviceId, [bodyKey]: rows }`). */
  bodyKey: string;
  device: string;
  toUpload: (row: P) => Promise<unknown>;
  /** What an accepted answer writes on its row, and whether it is a conflict. */
  accepted: (answer: A) => { changes: Partial<P>; conflict: boolean };
}

export async function uploadQueued<
  P extends { attempts: number },
  A extends UploadAnswer,
  K extends keyof P & keyof A & string,
>(u: QueuedUpload<P, A, K>): Promise<UploadCounts> {
  const counts: UploadCounts = {
    sent: 0,
    done: 0,
    conflicts: 0,
    rejected: 0,
    error: null,
    networkDown: false,
  };
  const idOf = (x: P | A) => String((x as Record<string, unknown>)[u.key]);
  for (let i = 0, n = 0; i < u.queued.length && n < u.maxBatches; i += u.batchSize, n++) {
    const batch = u.queued.slice(i, i + u.batchSize);
    await u.table
      .where(u.key)
      .anyOf(batch.map(idOf))
      .modify((row) => {
        row.attempts += 1;
      });
    const rows = [];
    for (const row of batch) rows.push(await u.toUpload(row));
    counts.sent += batch.length;
    try {
      const answer = await api<{ results: A[] }>(u.url, {
        method: 'POST',
        body: { deviceId: u.device, [u.bodyKey]: rows },
        timeoutMs: 60_000,
      });
      await u.table.db.transaction('rw', u.table, async () => {
        for (const r of answer.results ?? []) {
          if (r.result === 'rejected') {
            const changes = {
              status: 'rejected',
              outcomeOfUpload: 'rejected',
              error: rejectionText(r.error),
            };
            await u.table.update(idOf(r) as never, changes as never);
            counts.rejected++;
          } else {
            const { changes, conflict } = u.accepted(r);
            await u.table.update(
              idOf(r) as never,
              {
                status: 'done',
                outcomeOfUpload: r.result,
                ...changes,
                error: null,
              } as never,
            );
            counts.done++;
            if (conflict) counts.conflicts++;
          }
        }
      });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      counts.error = e.message;
      counts.networkDown = e.isNetwork;
      for (const row of batch) await u.table.update(idOf(row) as never, { error: e.message } as never);
      break;
    }
  }
  return counts;
}
