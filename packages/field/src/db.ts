import { DEFAULT_READING_THRESHOLDS, type ReadingThresholds } from '@meterline/domain/metering/readingCheck';
import Dexie, { type EntityTable } from 'dexie';
import type { CollectCustomer } from './collect/types';
import type { FieldOrder, FieldRecheck } from './orders/types';
import type { AnomalyCode, RouteBook, RouteMeter, UploadOutcome } from './types';

/**
 * Everything the reader needs for the day lives here, in IndexedDB: the app works with no network
 * after the morning download, also after a reload (the service worker serves the app shell).
 */

/** A meter of the downloaded route, keyed by `${accountId}:${meterId}`. */
export interface StoredMeter extends RouteMeter {
  key: string;
  workDate: string;
  /** Position in the route as downloaded (the server sends the meters in route order). */
  pos: number;
}

export interface StoredThresholds extends ReadingThresholds {
  /** Always 'current': one row, replaced by each download. */
  id: 'current';
  workDate: string;
}

/**
 * A reading in the outbox. `clientId` is its identity for the server: every retry sends the same
 * one, so a retry or a second phone never records it twice.
 */
export type OutboxStatus =
  /** waiting to be sent (also after a failed attempt) */
  | 'queued'
  /** the server has it (accepted, review, duplicate or conflict) */
  | 'done'
  /** the server refused this row: shown with the reason, kept for correction */
  | 'rejected'
  /** a rejected reading the reader has corrected (the correction is a new reading) */
  | 'replaced';

export interface PendingReading {
  clientId: string;
  /** The reader who took it: only their session uploads it. */
  username: string;
  workDate: string;
  /** `${accountId}:${meterId}` */
  meterKey: string;
  accountId: number;
  meterId: number;
  bookId: number | null;
  meterNo: string;
  customerName: string;
  address: string;
  previousIndex: string;
  /** As typed; null when there was no access. */
  index: string | null;
  consumptionM3: string | null;
  /** Flags of the check on the handheld (checkReading). */
  localFlags: string[];
  /** The reader confirmed a flagged index. */
  confirmed: boolean;
  noAccess: boolean;
  anomalyCodes: string[];
  note: string;
  readAt: string;
  latitude: number | null;
  longitude: number | null;
  accuracyM: number | null;
  /** What became of the position: ok, denied, unavailable, timeout, unsupported. */
  gpsStatus: string;
  photoId: string | null;
  signatureId: string | null;
  signerName: string;
  status: OutboxStatus;
  /** Upload attempts so far; once one was made the reading is never changed in place. */
  attempts: number;
  lastAttemptAt: string | null;
  outcome: UploadOutcome | null;
  /** How the server holds it, when the answer says so (a `duplicate` answer may carry the first status). */
  serverStatus?: string | null;
  serverFlags: string[];
  readingId: string | null;
  error: string | null;
  createdAt: string;
  /** Auto-increment order of saving (for the outbox list). */
  savedSeq: number;
}

/** A photo or a signature, kept as a Blob until its reading is uploaded. */
export interface StoredBlob {
  id: string;
  kind: 'photo' | 'signature';
  blob: Blob;
  createdAt: string;
}

/** A reading confirmation sheet (抄表确认单) signed for a book or a building. */
export interface ConfirmationSheet {
  id: string;
  workDate: string;
  scope: 'book' | 'building';
  scopeKey: string;
  scopeLabel: string;
  signerName: string;
  signatureId: string;
  clientIds: string[];
  signedAt: string;
}

export interface SyncLogEntry {
  id?: number;
  at: string;
  trigger: string;
  sent: number;
  done: number;
  conflicts: number;
  rejected: number;
  error: string | null;
}

export interface MetaEntry {
  key: string;
  value: unknown;
}

/** A customer on the day's collection list (催缴任务), keyed by `${accountId}:${taskId}`. */
export interface StoredCollectTask extends CollectCustomer {
  key: string;
  workDate: string;
  /** Position in the list as downloaded. */
  pos: number;
}

/** A collection visit in the outbox; `clientVisitId` is its identity for the server on every retry. */
export interface PendingVisit {
  clientVisitId: string;
  username: string;
  workDate: string;
  /** `${accountId}:${taskId}` */
  taskKey: string;
  accountId: number;
  taskId: number | null;
  customerName: string;
  address: string;
  method: string;
  outcome: string;
  reason: string;
  signerName: string;
  promisedOn: string | null;
  phoneCall: { phone: string; result: string; note: string } | null;
  site: Record<string, unknown> | null;
  visitedAt: string;
  latitude: number | null;
  longitude: number | null;
  accuracyM: number | null;
  photoId: string | null;
  signatureId: string | null;
  status: OutboxStatus;
  attempts: number;
  /** accepted, duplicate, conflict or rejected (the server's answer). */
  outcomeOfUpload: string | null;
  visitId: number | null;
  error: string | null;
  createdAt: string;
  savedSeq: number;
}

/**
 * A shut-off / restore work order or a due re-check on the phone (停复水工单), keyed by
 * `${kind}:${accountId}:${orderId}` (kind 'shutoff' | 'restore' | 'recheck').
 */
export interface StoredFieldOrder {
  key: string;
  kind: 'shutoff' | 'restore' | 'recheck';
  pos: number;
  order: FieldOrder | null;
  recheck: FieldRecheck | null;
}

/** A work-order result or a re-check in the outbox; `clientResultId` is its identity on every retry. */
export interface PendingOrderResult {
  clientResultId: string;
  username: string;
  /** The StoredFieldOrder key. */
  orderKey: string;
  kind: 'order' | 'recheck';
  accountId: number;
  orderId: number;
  orderNo: string;
  customerName: string;
  /** order: done | mismatch | obstructed; recheck: still_off | meter_removed | reconnected. */
  outcome: string;
  action: string | null;
  confirmedMeterNo: string;
  note: string;
  recordedAt: string;
  latitude: number | null;
  longitude: number | null;
  accuracyM: number | null;
  photoId: string | null;
  status: OutboxStatus;
  attempts: number;
  /** accepted, duplicate, conflict or rejected (the server's answer). */
  outcomeOfUpload: string | null;
  /** The first upload was kept as a conflict (a duplicate answer says so too). */
  conflict: boolean;
  resultId: number | null;
  error: string | null;
  createdAt: string;
  savedSeq: number;
}

export class FieldDb extends Dexie {
  meters!: EntityTable<StoredMeter, 'key'>;
  books!: EntityTable<RouteBook & { workDate: string }, 'bookId'>;
  anomalyCodes!: EntityTable<AnomalyCode & { pos: number }, 'code'>;
  thresholds!: EntityTable<StoredThresholds, 'id'>;
  outbox!: EntityTable<PendingReading, 'clientId'>;
  blobs!: EntityTable<StoredBlob, 'id'>;
  sheets!: EntityTable<ConfirmationSheet, 'id'>;
  syncLog!: EntityTable<SyncLogEntry, 'id'>;
  meta!: EntityTable<MetaEntry, 'key'>;
  collectTasks!: EntityTable<StoredCollectTask, 'key'>;
  visitOutbox!: EntityTable<PendingVisit, 'clientVisitId'>;
  fieldOrders!: EntityTable<StoredFieldOrder, 'key'>;
  orderOutbox!: EntityTable<PendingOrderResult, 'clientResultId'>;

  constructor() {
    super('meterline-field');
    this.version(1).stores({
      meters: 'key, workDate, pos',
      books: 'bookId',
      anomalyCodes: 'code, pos',
      thresholds: 'id',
      outbox: 'clientId, meterKey, status, workDate, savedSeq',
      blobs: 'id',
      sheets: 'id, workDate',
      syncLog: '++id, at',
      meta: 'key',
    });
    // Field collection (催缴): the day's list and the visits waiting to be sent.
    this.version(2).stores({
      collectTasks: 'key, workDate, pos',
      visitOutbox: 'clientVisitId, taskKey, status, workDate, savedSeq',
    });
    // Shut-off / restore work orders and re-checks (停复水工单) and their results waiting to be sent.
    this.version(3).stores({
      fieldOrders: 'key, pos',
      orderOutbox: 'clientResultId, orderKey, status, savedSeq',
    });
  }
}

export const db = new FieldDb();

export async function getMeta<T>(key: string): Promise<T | undefined> {
  return (await db.meta.get(key))?.value as T | undefined;
}

export async function setMeta(key: string, value: unknown): Promise<void> {
  await db.meta.put({ key, value });
}

/** The thresholds of the last download, or the defaults of DOMAIN.md §3 before one. */
export async function currentThresholds(): Promise<ReadingThresholds> {
  const row = await db.thresholds.get('current');
  return row ?? DEFAULT_READING_THRESHOLDS;
}

export function meterKey(accountId: number, meterId: number): string {
  return `${accountId}:${meterId}`;
}

/** The server keeps this reading as a conflict for the analyst (told so by the first answer or a later one). */
export function isConflict(r: Pick<PendingReading, 'outcome' | 'serverStatus'>): boolean {
  return r.outcome === 'conflict' || r.serverStatus === 'conflict';
}

/** Readings still to be sent (by any reader who used this phone). */
export function queuedReadings(): Promise<PendingReading[]> {
  return db.outbox.where('status').equals('queued').sortBy('savedSeq');
}
