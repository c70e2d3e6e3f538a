import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RowError } from './messages.ts';
import {
  type AnomalyInfo,
  decideReading,
  type MeterHistory,
  periodOf,
  type ReadingRules,
  sameReading,
  withAccepted,
} from './model.ts';
import {
  type Db,
  insertReadingRows,
  type LiveReading,
  loadContexts,
  lockMeters,
  meterKey,
  openFollowups,
  type ReadingContext,
  reserveReadingIds,
} from './repository.ts';

/**
 * Storing incoming readings, for the handheld's uploads and smart-meter files alike: each reading
 * is checked against its meter (decideReading), recognised when it was stored before (same client
 * id: a retry or a second phone), kept as a conflict when another reading of the same meter and
 * period says something else, and written set-based with its follow-ups. Runs inside the caller's
 * transaction; the caller audits.
 */

/** A read time up to this far ahead of the server's clock is a clock difference, not the future. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export interface Image {
  bytes: Buffer;
  ext: 'jpg' | 'png';
}

export interface Candidate {
  /** The caller's own reference: the position in the batch or the file's row number. */
  ref: number;
  clientId: string;
  /** The meter, by account and id (handheld) or by number (smart-meter files). */
  accountId?: number;
  meterId?: number;
  meterNo?: string;
  readAt: Date;
  /** Already in index format (INDEX_PATTERN), or null. */
  index: string | null;
  anomalyCodes: string[];
  note: string;
  latitude: number | null;
  longitude: number | null;
  accuracyM: number | null;
  signerName: string;
  photo: Image | null;
  signature: Image | null;
}

export type Outcome = 'accepted' | 'review' | 'duplicate' | 'conflict' | 'rejected';

export interface IngestResult {
  ref: number;
  clientId: string;
  outcome: Outcome;
  readingId?: number;
  flags: string[];
  error?: RowError;
  accountId?: number;
  officeId?: number;
  /** What was stored (not for duplicates or rejections). */
  stored?: {
    meterId: number;
    period: string;
    kind: 'actual' | 'estimated';
    indexValue: string | null;
    consumptionM3: string | null;
    status: string;
  };
}

export interface IngestOptions {
  source: 'handheld' | 'bulk';
  readerId: number | null;
  deviceId: string;
  /** The offices the meters must lie in; null: any office. */
  officeIds: readonly number[] | null;
  rules: ReadingRules;
  /** Active anomaly codes. */
  anomalies: ReadonlyMap<string, AnomalyInfo>;
  now: Date;
  /** Where photos and signatures go (config.dataDir). */
  dataDir: string;
  /** Lock the meters while deciding (uploads: yes; bulk files serialise per office instead). */
  lockMeters: boolean;
  /** Milliseconds spent loading, checking and writing are added here (benchmarks). */
  timings?: IngestTimings;
}

export interface IngestTimings {
  loadMs: number;
  checkMs: number;
  writeMs: number;
}

interface Row {
  candidate: Candidate;
  accountId: number;
  meterId: number;
  meter: { officeId: number; bookId: number | null; dialDigits: number };
  period: string;
  status: 'accepted' | 'review' | 'conflict';
  kind: 'actual' | 'estimated';
  previousIndex: string;
  indexValue: string | null;
  consumptionM3: string | null;
  flags: string[];
  readingId: number;
  photoPath: string | null;
  signaturePath: string | null;
}

const rejected = (c: Candidate, error: RowError, extra: Partial<IngestResult> = {}): IngestResult => ({
  ref: c.ref,
  clientId: c.clientId,
  outcome: 'rejected',
  flags: [],
  error,
  ...extra,
});

export async function ingestReadings(
  db: Db,
  candidates: Candidate[],
  opts: IngestOptions,
): Promise<IngestResult[]> {
  const results = new Map<number, IngestResult>();
  // The same client id twice in one batch: the later ones answer as duplicates of the first.
  const idOf = (c: Candidate) => `${c.accountId ?? c.meterNo}:${c.clientId}`;
  const firstByClient = new Map<string, Candidate>();
  const repeats: Candidate[] = [];
  const fresh: Candidate[] = [];
  for (const c of candidates) {
    if (firstByClient.has(idOf(c))) repeats.push(c);
    else {
      firstByClient.set(idOf(c), c);
      fresh.push(c);
    }
  }

  if (opts.lockMeters) {
    await lockMeters(
      db,
      fresh.flatMap((c) =>
        c.accountId !== undefined && c.meterId !== undefined
          ? [{ accountId: c.accountId, meterId: c.meterId }]
          : [],
      ),
    );
  }
  const t0 = performance.now();
  let from = opts.now;
  let to = opts.now;
  for (const c of fresh) {
    if (c.readAt < from) from = c.readAt;
    if (c.readAt > to) to = c.readAt;
  }
  const contexts = await loadContexts(
    db,
    fresh.map((c) => ({
      accountId: c.accountId,
      meterId: c.meterId,
      meterNo: c.meterNo,
      period: periodOf(c.readAt),
      clientId: c.clientId,
    })),
    { from, to },
  );

  const t1 = performance.now();
  interface Valid {
    c: Candidate;
    ctx: ReadingContext;
    period: string;
  }
  const valid: Valid[] = [];
  for (const [i, c] of fresh.entries()) {
    const ctx = contexts.get(i);
    const m = ctx?.meter;
    if (!ctx || !m || (opts.officeIds !== null && !opts.officeIds.includes(m.officeId))) {
      const error: RowError =
        c.meterNo !== undefined
          ? { code: 'METER_NO_UNKNOWN', data: { meterNo: c.meterNo } }
          : { code: 'METER_UNKNOWN', data: {} };
      results.set(c.ref, rejected(c, error));
      continue;
    }
    const where = { accountId: m.accountId, officeId: m.officeId };
    if (ctx.duplicate) {
      results.set(c.ref, {
        ref: c.ref,
        clientId: c.clientId,
        outcome: 'duplicate',
        readingId: ctx.duplicate.readingId,
        flags: ctx.duplicate.flags,
        ...where,
      });
      continue;
    }
    if (m.meterState !== 'in_service') {
      results.set(c.ref, rejected(c, { code: 'METER_REMOVED', data: {} }, where));
      continue;
    }
    if (c.readAt.getTime() > opts.now.getTime() + CLOCK_SKEW_MS) {
      results.set(c.ref, rejected(c, { code: 'READ_AT_FUTURE', data: {} }, where));
      continue;
    }
    const unknown = c.anomalyCodes.find((code) => !opts.anomalies.has(code));
    if (unknown !== undefined) {
      results.set(c.ref, rejected(c, { code: 'ANOMALY_UNKNOWN', data: { code: unknown } }, where));
      continue;
    }
    // A meter review sent back is read for the period it was rejected in.
    const own = periodOf(c.readAt);
    const period = ctx.revisitPeriod !== null && ctx.revisitPeriod < own ? ctx.revisitPeriod : own;
    valid.push({ c, ctx, period });
  }

  // Oldest first per meter, so a later reading of the same batch counts from an earlier one.
  valid.sort(
    (a, b) =>
      a.ctx.meter.accountId - b.ctx.meter.accountId ||
      a.ctx.meter.meterId - b.ctx.meter.meterId ||
      a.c.readAt.getTime() - b.c.readAt.getTime(),
  );
  const histories = new Map<string, MeterHistory>();
  const live = new Map<string, LiveReading[]>();
  const rows: Omit<Row, 'readingId' | 'photoPath' | 'signaturePath'>[] = [];
  for (const { c, ctx, period } of valid) {
    const m = ctx.meter;
    const key = meterKey(m.accountId, m.meterId);
    const history = histories.get(key) ?? ctx.history;
    const where = { accountId: m.accountId, officeId: m.officeId };
    const decision = decideReading(c, history, opts.anomalies, opts.rules);
    if (!decision.ok) {
      results.set(c.ref, rejected(c, { code: decision.code, data: decision.data }, where));
      continue;
    }
    const liveKey = `${key}@${period}`;
    const standing = live.get(liveKey) ?? (period === periodOf(c.readAt) ? ctx.live : []);
    const same = standing.find((l) =>
      sameReading(l, { kind: decision.kind, indexValue: decision.indexValue }),
    );
    if (same) {
      // The same reading again from another client id (a second phone, a re-entry): kept once.
      results.set(c.ref, {
        ref: c.ref,
        clientId: c.clientId,
        outcome: 'duplicate',
        readingId: same.readingId,
        flags: same.flags,
        ...where,
      });
      continue;
    }
    const status = standing.length > 0 ? 'conflict' : decision.status;
    rows.push({
      candidate: c,
      accountId: m.accountId,
      meterId: m.meterId,
      meter: m,
      period,
      status,
      kind: decision.kind,
      previousIndex: decision.previousIndex,
      indexValue: decision.indexValue,
      consumptionM3: decision.consumptionM3,
      flags: decision.flags,
    });
    live.set(liveKey, [
      ...standing,
      {
        accountId: m.accountId,
        meterId: m.meterId,
        readingId: -rows.length,
        period,
        kind: decision.kind,
        indexValue: decision.indexValue,
        status,
        flags: decision.flags,
      },
    ]);
    if (status === 'accepted') {
      histories.set(
        key,
        withAccepted(history, {
          readingId: -rows.length,
          readAt: c.readAt,
          kind: decision.kind,
          indexValue: decision.indexValue,
          previousIndex: decision.previousIndex,
          consumptionM3: decision.consumptionM3,
          previousReadAt: null,
        }),
      );
    }
  }

  const t2 = performance.now();
  const ids = await reserveReadingIds(db, rows.length);
  const stored: Row[] = [];
  for (const [i, r] of rows.entries()) {
    const readingId = ids[i]!;
    const c = r.candidate;
    const photoPath = c.photo
      ? await saveImage(opts.dataDir, r.accountId, readingId, 'photo', c.photo)
      : null;
    const signaturePath = c.signature
      ? await saveImage(opts.dataDir, r.accountId, readingId, 'signature', c.signature)
      : null;
    stored.push({ ...r, readingId, photoPath, signaturePath });
  }
  // A later duplicate of a reading stored in this batch names it by its real id.
  const realId = (id: number | undefined) => (id !== undefined && id < 0 ? stored[-id - 1]!.readingId : id);
  for (const res of results.values()) res.readingId = realId(res.readingId);

  await insertReadings(db, stored, opts);
  await openFollowups(
    db,
    stored.flatMap((r) =>
      r.candidate.anomalyCodes.map((code) => ({
        accountId: r.accountId,
        meterId: r.meterId,
        readingId: r.readingId,
        code,
        department: opts.anomalies.get(code)!.department,
      })),
    ),
  );
  if (opts.timings) {
    opts.timings.loadMs += t1 - t0;
    opts.timings.checkMs += t2 - t1;
    opts.timings.writeMs += performance.now() - t2;
  }
  for (const r of stored) {
    results.set(r.candidate.ref, {
      ref: r.candidate.ref,
      clientId: r.candidate.clientId,
      outcome: r.status,
      readingId: r.readingId,
      flags: r.flags,
      accountId: r.accountId,
      officeId: r.meter.officeId,
      stored: {
        meterId: r.meterId,
        period: r.period,
        kind: r.kind,
        indexValue: r.indexValue,
        consumptionM3: r.consumptionM3,
        status: r.status,
      },
    });
  }
  for (const c of repeats) {
    const first = results.get(firstByClient.get(idOf(c))!.ref)!;
    results.set(c.ref, {
      ...first,
      ref: c.ref,
      outcome: first.outcome === 'rejected' ? 'rejected' : 'duplicate',
      stored: undefined,
    });
  }
  return candidates.map((c) => results.get(c.ref)!);
}

async function insertReadings(db: Db, rows: Row[], opts: IngestOptions): Promise<void> {
  await insertReadingRows(
    db,
    rows.map((r) => ({
      accountId: r.accountId,
      readingId: r.readingId,
      meterId: r.meterId,
      bookId: r.meter.bookId,
      period: r.period,
      readAt: r.candidate.readAt,
      previousIndex: r.previousIndex,
      indexValue: r.indexValue,
      consumptionM3: r.consumptionM3,
      kind: r.kind,
      source: opts.source,
      anomalyCodes: r.candidate.anomalyCodes,
      flags: r.flags,
      note: r.candidate.note,
      photoPath: r.photoPath,
      signaturePath: r.signaturePath,
      signerName: r.candidate.signerName,
      latitude: r.candidate.latitude,
      longitude: r.candidate.longitude,
      accuracyM: r.candidate.accuracyM,
      readerId: opts.readerId,
      deviceId: opts.deviceId,
      clientId: r.candidate.clientId,
      status: r.status,
    })),
  );
}

/** Stores a photo or signature as readings/<accountId>/<readingId>-photo.jpg under the data dir. */
async function saveImage(
  dataDir: string,
  accountId: number,
  readingId: number,
  what: 'photo' | 'signature',
  image: Image,
): Promise<string> {
  const relative = path.join('readings', String(accountId), `${readingId}-${what}.${image.ext}`);
  await mkdir(path.join(dataDir, 'readings', String(accountId)), { recursive: true });
  await writeFile(path.join(dataDir, relative), image.bytes);
  return relative;
}
