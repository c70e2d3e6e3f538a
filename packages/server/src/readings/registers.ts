import {
  addDays,
  checkRegisterRead,
  milliOf,
  milliText,
  REGISTER_EXCEPTION_BITS,
  REGISTER_FLAGS,
  type RegisterFlag,
  type RegisterReference,
  type RegisterRules,
  registerFlagNames,
  registerRules,
  todayInChina,
} from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { CopyRows, copyFrom } from '../db/copy.ts';
import type { DB } from '../db/schema.ts';
import type { Caller, RequestContext } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { loadSettings } from '../platform/settings.ts';
import {
  type BulkRowError,
  countRows,
  inTransaction,
  type Lanes,
  MAX_REPORTED_ERRORS,
  officeChunkLock,
  officeLanes,
  type ParsedRow,
  REGISTER_FILE_LOCK,
  readRowFile,
} from './bulk.ts';
import { CLOCK_SKEW_MS } from './ingest.ts';
import { type RowError, rowMessages } from './messages.ts';
import { type AnomalyInfo, chinaDayOf, historyMilli, registerReferenceFromHistory } from './model.ts';
import {
  auditOn,
  type BulkConnection,
  type BulkValue,
  bulkSession,
  copyTextArray,
  loadAnomalyCodes,
  loadBulkReadings,
  loadMeterDirectory,
  type MeterDirectory,
  sqlArray,
} from './repository.ts';
import { officeCondition } from './service.ts';

/**
 * Smart meters' register reads (远传日冻结读数): files of the reads a vendor's platform sends daily or
 * more often, in the smart-meter file format (bulk.ts), stored in `register_read` — not as billing
 * readings. Each read is checked against its meter's state (checkRegisterRead: its reference read and
 * usual daily use), which is the meter's newest stored read: the file keeps the state of the meters it
 * has seen in memory and writes nothing but the reads, chunk by chunk, each chunk one transaction.
 * A read is keyed by meter and read time: a file sent again stores nothing twice; another index for a
 * stored (meter, time) is kept in `register_conflict` for the analyst.
 */

/** Reads checked and written per transaction. */
export const REGISTER_CHUNK_ROWS = 50_000;

export type RegisterOutcome = 'stored' | 'flagged' | 'duplicate' | 'conflict' | 'rejected';

export interface RegisterReport extends Record<RegisterOutcome, number> {
  fileId: number;
  officeId: number;
  rows: number;
  errors: BulkRowError[];
  chunks: number;
  seconds: number;
  /** Where the time went (for the benchmark): reading the file, loading the meters' state, checking, writing. */
  stages: { parseSeconds: number; loadSeconds: number; checkSeconds: number; writeSeconds: number };
}

export interface RegisterOptions {
  officeId: number;
  filePath: string;
  fileName: string;
  /** Raw connections: the file is written through COPY on one of them, holding the office's lock. */
  pool?: pg.Pool;
  chunkRows?: number;
  now?: Date;
  log?: (msg: string) => void;
}

const DAY_MS = 86_400_000;

/**
 * The state of the meters of a file, by their place in the office's directory: their newest stored
 * read, their reference (the newest read that did not go backwards) and usual daily use. NaN: none.
 */
class MeterStates {
  readonly loaded: Uint8Array;
  readonly lastAtMs: Float64Array;
  readonly refAtMs: Float64Array;
  readonly refMilli: Float64Array;
  readonly dailyMilli: Float64Array;
  constructor(size: number) {
    this.loaded = new Uint8Array(size);
    this.lastAtMs = new Float64Array(size).fill(Number.NaN);
    this.refAtMs = new Float64Array(size).fill(Number.NaN);
    this.refMilli = new Float64Array(size).fill(Number.NaN);
    this.dailyMilli = new Float64Array(size).fill(Number.NaN);
  }
}

/** A row that passed its own checks: its meter's place in the directory, its time and index. */
interface Valid {
  row: ParsedRow;
  meter: number;
  atMs: number;
  indexMilli: number;
}

/** The register reads and conflicts of a chunk, ready to write, and its counts. */
interface DecidedChunk {
  reads: CopyRows;
  conflicts: CopyRows;
  counts: Record<RegisterOutcome, number>;
  rejects: { rowNo: number; meterNo: string; error: RowError }[];
  firstRow: number | null;
  lastRow: number | null;
}

const READ_COLUMNS = [
  'account_id',
  'meter_id',
  'read_at',
  'index_milli',
  'flags',
  'consumption_milli',
  'days',
  'expected_milli',
  'daily_milli',
  'ref_at',
  'ref_milli',
  'anomaly_codes',
  'file_id',
] as const;
const CONFLICT_COLUMNS = [
  'account_id',
  'meter_id',
  'read_at',
  'index_milli',
  'stored_milli',
  'anomaly_codes',
  'file_id',
] as const;

const num = (x: number | null) => (x === null || Number.isNaN(x) ? '\\N' : String(x));
const codesValue = (codes: readonly string[]) => (codes.length === 0 ? '\\N' : copyTextArray(codes));

interface ChunkContext {
  officeId: number;
  fileId: number;
  directory: MeterDirectory;
  states: MeterStates;
  rules: RegisterRules;
  anomalies: ReadonlyMap<string, AnomalyInfo>;
  now: Date;
  timings: { loadMs: number; checkMs: number };
}

/**
 * The meter's state after a stored read, from its columns read_at, index_milli, daily_milli, ref_at,
 * ref_milli (from `at` on in `v`): its reference is the read itself unless the row names another.
 */
function storedState(v: BulkValue[], at: number) {
  const atMs = (v[at] as number) / 1000;
  const own = v[at + 3] === null;
  return {
    atMs,
    dailyMilli: v[at + 2] === null ? Number.NaN : (v[at + 2] as number),
    refAtMs: own ? atMs : (v[at + 3] as number) / 1000,
    refMilli: own ? (v[at + 1] as number) : (v[at + 4] as number),
  };
}

/**
 * The state of the chunk's meters not yet seen in the file: each one's newest stored read; for a meter
 * with none, where its billing readings leave it (registerReferenceFromHistory).
 */
async function loadStates(conn: BulkConnection, meters: number[], ctx: ChunkContext, firstAtMs: number[]) {
  if (meters.length === 0) return;
  const { directory: d, states: s } = ctx;
  const accountIds = meters.map((m) => d.accountId[m]!);
  const meterIds = meters.map((m) => d.meterId[m]!);
  await conn.selectRows(
    [
      { sql: 'k.i', type: 'int' },
      { sql: 'r.read_at', type: 'us' },
      { sql: 'r.index_milli', type: 'int' },
      { sql: 'r.daily_milli', type: 'int' },
      { sql: 'r.ref_at', type: 'us' },
      { sql: 'r.ref_milli', type: 'int' },
    ],
    `unnest(${sqlArray(accountIds, 'int8')}, ${sqlArray(meterIds, 'int8')}, ${sqlArray(meters, 'int8')}) as k(a, m, i)
     cross join lateral (
       select read_at, index_milli, daily_milli, ref_at, ref_milli from register_read r
       where r.account_id = k.a and r.meter_id = k.m order by r.read_at desc limit 1) r`,
    (v) => {
      const m = v[0] as number;
      const read = storedState(v, 1);
      s.loaded[m] = 1;
      s.lastAtMs[m] = read.atMs;
      s.dailyMilli[m] = read.dailyMilli;
      s.refAtMs[m] = read.refAtMs;
      s.refMilli[m] = read.refMilli;
    },
  );
  const fresh = meters.filter((m) => s.loaded[m] === 0);
  const firstOf = new Map(meters.map((m, i) => [m, firstAtMs[i]!]));
  const refs = await billingReferences(
    conn,
    ctx,
    fresh,
    fresh.map((m) => firstOf.get(m)!),
  );
  for (const [i, m] of fresh.entries()) {
    const ref = refs[i]!;
    s.loaded[m] = 1;
    s.refAtMs[m] = Number.isNaN(ref.day) ? Number.NaN : ref.day * DAY_MS;
    s.refMilli[m] = ref.indexMilli;
    s.dailyMilli[m] = ref.dailyMilli;
  }
}

/**
 * Where the billing readings leave each meter before a time (registerReferenceFromHistory over its
 * accepted readings up to that China day): the reference of a meter's first register read, and of a
 * read older than all of its register reads.
 */
async function billingReferences(
  conn: BulkConnection,
  ctx: ChunkContext,
  meters: readonly number[],
  atMs: readonly number[],
): Promise<RegisterReference[]> {
  const out: RegisterReference[] = [];
  if (meters.length === 0) return out;
  const d = ctx.directory;
  let firstMs = Number.POSITIVE_INFINITY;
  for (const ms of atMs) firstMs = Math.min(firstMs, ms);
  // The rules' look-back from the earliest time asked about (as the bulk file has it).
  const season = { fromUs: (firstMs - 400 * DAY_MS) * 1000, toUs: (firstMs - 330 * DAY_MS) * 1000 };
  await loadBulkReadings(
    conn,
    meters.map((m) => ({ accountId: d.accountId[m]!, meterId: d.meterId[m]! })),
    '9999-12',
    (i, stored) => {
      const m = meters[i]!;
      const day = chinaDayOf(new Date(atMs[i]!));
      const history = historyMilli(
        stored,
        { dialDigits: d.dialDigits[m]!, initialMilli: d.initialMilli[m]! },
        season,
      );
      const before = { ...history, readings: history.readings.filter((r) => r.day <= day) };
      out[i] = registerReferenceFromHistory(before, day);
    },
    season.fromUs,
  );
  return out;
}

/** For reads at or before their meter's newest stored read: the read stored at that time, and the one before. */
interface Earlier {
  exactMilli: number;
  beforeAtMs: number;
  beforeDaily: number;
  beforeRefAtMs: number;
  beforeRefMilli: number;
}

async function loadEarlier(conn: BulkConnection, rows: Valid[], ctx: ChunkContext): Promise<Earlier[]> {
  const out: Earlier[] = rows.map(() => ({
    exactMilli: Number.NaN,
    beforeAtMs: Number.NaN,
    beforeDaily: Number.NaN,
    beforeRefAtMs: Number.NaN,
    beforeRefMilli: Number.NaN,
  }));
  if (rows.length === 0) return out;
  const d = ctx.directory;
  const at = rows.map((r) => new Date(r.atMs).toISOString());
  await conn.selectRows(
    [
      { sql: 'k.i', type: 'int' },
      { sql: 'e.index_milli', type: 'int' },
      { sql: 'p.read_at', type: 'us' },
      { sql: 'p.index_milli', type: 'int' },
      { sql: 'p.daily_milli', type: 'int' },
      { sql: 'p.ref_at', type: 'us' },
      { sql: 'p.ref_milli', type: 'int' },
    ],
    `unnest(${sqlArray(
      rows.map((r) => d.accountId[r.meter]!),
      'int8',
    )}, ${sqlArray(
      rows.map((r) => d.meterId[r.meter]!),
      'int8',
    )}, ${sqlArray(at, 'text')}::timestamptz[], ${sqlArray(
      rows.map((_, i) => i),
      'int8',
    )}) as k(a, m, t, i)
     left join lateral (
       -- A probe a key: the limit keeps the planner from making a plain join of it, which it hashes
       -- over every week of reads for a chunk's 50,000 keys.
       select index_milli from register_read e
       where e.account_id = k.a and e.meter_id = k.m and e.read_at = k.t limit 1) e on true
     left join lateral (
       select read_at, index_milli, daily_milli, ref_at, ref_milli from register_read p
       where p.account_id = k.a and p.meter_id = k.m and p.read_at < k.t order by p.read_at desc limit 1) p on true`,
    (v) => {
      const o = out[v[0] as number]!;
      if (v[1] !== null) o.exactMilli = v[1] as number;
      if (v[2] !== null) {
        const read = storedState(v, 2);
        o.beforeAtMs = read.atMs;
        o.beforeDaily = read.dailyMilli;
        o.beforeRefAtMs = read.refAtMs;
        o.beforeRefMilli = read.refMilli;
      }
    },
  );
  // Older than every register read of its meter: from its billing readings.
  const first = rows.flatMap((_, i) =>
    Number.isNaN(out[i]!.exactMilli) && Number.isNaN(out[i]!.beforeAtMs) ? [i] : [],
  );
  const refs = await billingReferences(
    conn,
    ctx,
    first.map((i) => rows[i]!.meter),
    first.map((i) => rows[i]!.atMs),
  );
  for (const [n, i] of first.entries()) {
    const ref = refs[n]!;
    const o = out[i]!;
    o.beforeRefAtMs = Number.isNaN(ref.day) ? Number.NaN : ref.day * DAY_MS;
    o.beforeRefMilli = ref.indexMilli;
    o.beforeDaily = ref.dailyMilli;
  }
  return out;
}

/** Another index for a stored read (or one earlier in the chunk): counted, and kept for the analyst. */
function addConflict(
  out: DecidedChunk,
  account: number,
  meterId: number,
  iso: string,
  v: Valid,
  storedMilli: number,
  fileId: string,
) {
  out.counts.conflict++;
  out.conflicts.add(
    `${account}\t${meterId}\t${iso}\t${v.indexMilli}\t${storedMilli}\t${codesValue(v.row.anomalyCodes)}\t${fileId}\n`,
  );
}

/** Checks a chunk's rows: rejects, duplicates and conflicts, and the flags and state of every read stored. */
async function decideChunk(
  conn: BulkConnection,
  rows: ParsedRow[],
  ctx: ChunkContext,
): Promise<DecidedChunk> {
  const t0 = performance.now();
  const { directory: d, states: s, rules, anomalies } = ctx;
  const out: DecidedChunk = {
    reads: new CopyRows(),
    conflicts: new CopyRows(),
    counts: { stored: 0, flagged: 0, duplicate: 0, conflict: 0, rejected: 0 },
    rejects: [],
    firstRow: rows[0]?.rowNo ?? null,
    lastRow: rows[rows.length - 1]?.rowNo ?? null,
  };
  const reject = (row: ParsedRow, error: RowError) =>
    out.rejects.push({ rowNo: row.rowNo, meterNo: row.meterNo, error });
  const latest = ctx.now.getTime() + CLOCK_SKEW_MS;
  const valid: Valid[] = [];
  for (const row of rows) {
    if (row.error) {
      reject(row, row.error);
      continue;
    }
    const meter = d.find(row.meterNo);
    if (meter === -1) reject(row, { code: 'METER_NO_UNKNOWN', data: { meterNo: row.meterNo } });
    else if (d.inService[meter] !== 1) reject(row, { code: 'METER_REMOVED', data: {} });
    else if (row.readAt!.getTime() > latest) reject(row, { code: 'READ_AT_FUTURE', data: {} });
    else if (row.index === null) reject(row, { code: 'REGISTER_INDEX_REQUIRED', data: {} });
    else {
      const indexMilli = milliOf(row.index);
      const unknown = row.anomalyCodes.find((code) => !anomalies.has(code));
      if (unknown !== undefined) reject(row, { code: 'ANOMALY_UNKNOWN', data: { code: unknown } });
      else if (indexMilli >= 10 ** (d.dialDigits[meter]! + 3))
        reject(row, { code: 'INDEX_TOO_LARGE', data: { dialDigits: d.dialDigits[meter] } });
      else valid.push({ row, meter, atMs: row.readAt!.getTime(), indexMilli });
    }
  }
  // Each meter's reads oldest first, so each is checked against the one before.
  valid.sort((a, b) => a.meter - b.meter || a.atMs - b.atMs || a.row.rowNo - b.row.rowNo);

  // The meters not seen yet in the file, with their first read of the chunk.
  const unseen: number[] = [];
  const unseenAtMs: number[] = [];
  for (const [i, v] of valid.entries()) {
    if (s.loaded[v.meter] === 0 && (i === 0 || valid[i - 1]!.meter !== v.meter)) {
      unseen.push(v.meter);
      unseenAtMs.push(v.atMs);
    }
  }
  await loadStates(conn, unseen, ctx, unseenAtMs);
  // Reads at or before their meter's newest stored one (a file sent again, a late read): looked up.
  const earlierRows: Valid[] = [];
  const earlierOf = new Map<Valid, number>();
  for (const v of valid) {
    if (v.atMs <= s.lastAtMs[v.meter]!) {
      earlierOf.set(v, earlierRows.length);
      earlierRows.push(v);
    }
  }
  const earlier = await loadEarlier(conn, earlierRows, ctx);
  const t1 = performance.now();
  ctx.timings.loadMs += t1 - t0;

  const fileId = String(ctx.fileId);
  let previous: Valid | null = null;
  // Files repeat the same read time row after row: its forms are made once.
  let timeMs = Number.NaN;
  let iso = '';
  let day = 0;
  for (const v of valid) {
    const { meter } = v;
    const codes = v.row.anomalyCodes;
    const account = d.accountId[meter]!;
    const meterId = d.meterId[meter]!;
    if (v.atMs !== timeMs) {
      timeMs = v.atMs;
      iso = new Date(v.atMs).toISOString();
      day = chinaDayOf(new Date(v.atMs));
    }
    // The same meter and time twice in the chunk: the first stands.
    if (previous !== null && previous.meter === meter && previous.atMs === v.atMs) {
      if (previous.indexMilli === v.indexMilli) out.counts.duplicate++;
      else addConflict(out, account, meterId, iso, v, previous.indexMilli, fileId);
      continue;
    }
    previous = v;
    const anomaly = codes.length > 0;
    const dialDigits = d.dialDigits[meter]!;
    const e = earlierOf.get(v);
    let flags: number;
    let consumption: number | null;
    let days: number | null;
    let expected: number | null;
    let daily: number;
    let refAt = '\\N';
    let refMilli = '\\N';
    if (e !== undefined) {
      const found = earlier[e]!;
      if (!Number.isNaN(found.exactMilli)) {
        if (found.exactMilli === v.indexMilli) out.counts.duplicate++;
        else addConflict(out, account, meterId, iso, v, found.exactMilli, fileId);
        continue;
      }
      // A late read: checked against the read before it; the meter's state stays with its newest.
      const check = checkRegisterRead(
        {
          day: Number.isNaN(found.beforeRefAtMs) ? Number.NaN : chinaDayOf(new Date(found.beforeRefAtMs)),
          indexMilli: found.beforeRefMilli,
          dailyMilli: found.beforeDaily,
        },
        { day, indexMilli: v.indexMilli, dialDigits, anomaly },
        rules,
      );
      flags = check.flags | REGISTER_FLAGS.LATE;
      consumption = check.consumptionMilli;
      days = check.days;
      expected = check.expectedMilli;
      daily = check.dailyMilli;
      if (!check.isReference && !Number.isNaN(found.beforeRefAtMs)) {
        refAt = new Date(found.beforeRefAtMs).toISOString();
        refMilli = String(found.beforeRefMilli);
      }
    } else {
      const refAtMs = s.refAtMs[meter]!;
      const check = checkRegisterRead(
        {
          day: Number.isNaN(refAtMs) ? Number.NaN : chinaDayOf(new Date(refAtMs)),
          indexMilli: s.refMilli[meter]!,
          dailyMilli: s.dailyMilli[meter]!,
        },
        { day, indexMilli: v.indexMilli, dialDigits, anomaly },
        rules,
      );
      flags = check.flags;
      consumption = check.consumptionMilli;
      days = check.days;
      expected = check.expectedMilli;
      daily = check.dailyMilli;
      s.lastAtMs[meter] = v.atMs;
      s.dailyMilli[meter] = daily;
      if (check.isReference) {
        s.refAtMs[meter] = v.atMs;
        s.refMilli[meter] = v.indexMilli;
      } else {
        // Kept as the reference of the next read (the installed index, of no known day, from this read's).
        refAt = Number.isNaN(refAtMs) ? iso : new Date(refAtMs).toISOString();
        refMilli = String(s.refMilli[meter]);
      }
    }
    if ((flags & REGISTER_EXCEPTION_BITS) !== 0) out.counts.flagged++;
    else out.counts.stored++;
    out.reads.add(
      `${account}\t${meterId}\t${iso}\t${v.indexMilli}\t${flags}\t${num(consumption)}\t${num(days)}\t${num(expected)}\t${num(daily)}\t${refAt}\t${refMilli}\t${codesValue(codes)}\t${fileId}\n`,
    );
  }
  ctx.timings.checkMs += performance.now() - t1;
  return out;
}

/** COPY-format lines as rows of values (for a connection without COPY). */
function linesToValues(rows: CopyRows): (string | null)[][] {
  const text = Buffer.concat(rows.buffers()).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) =>
      l
        .split('\t')
        .map((v) =>
          v === '\\N'
            ? null
            : v.replace(/\\(.)/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c)),
        ),
    );
}

/** Writes rows into a table: COPY on a raw client, else one insert of the rows as arrays. */
async function writeRows(
  conn: BulkConnection,
  client: pg.PoolClient | undefined,
  table: string,
  columns: readonly string[],
  types: readonly string[],
  rows: CopyRows,
  onConflict = '',
) {
  if (rows.rows === 0) return;
  if (client && onConflict === '') {
    await copyFrom(client, table, columns, rows);
    return;
  }
  const values = linesToValues(rows);
  const arrays = columns.map((_, c) => values.map((r) => r[c] ?? null));
  // A text[] value travels as its text (an array of arrays would need equal lengths).
  await conn.query(
    `insert into ${table} (${columns.join(', ')})
     select ${types.map((t, i) => (t === 'text[]' ? `c${i}::text[]` : `c${i}`)).join(', ')}
     from unnest(${types.map((t, i) => `$${i + 1}::${t === 'text[]' ? 'text' : t}[]`).join(', ')})
       as u(${types.map((_, i) => `c${i}`).join(', ')}) ${onConflict}`,
    arrays,
  );
}

const READ_TYPES = [
  'int8',
  'int8',
  'timestamptz',
  'int8',
  'int2',
  'int8',
  'int4',
  'int8',
  'int8',
  'timestamptz',
  'int8',
  'text[]',
  'int8',
];
const CONFLICT_TYPES = ['int8', 'int8', 'timestamptz', 'int8', 'int8', 'text[]', 'int8'];

/** Writes a decided chunk, its file's counts and its audit entry (inside the chunk's transaction). */
async function writeChunk(
  conn: BulkConnection,
  client: pg.PoolClient | undefined,
  chunk: DecidedChunk,
  ctx: ChunkContext,
  audit: { staffId: number; fileName: string; chunkNo: number; requestId: string; ip: string | null },
) {
  await writeRows(conn, client, 'register_read', READ_COLUMNS, READ_TYPES, chunk.reads);
  await writeRows(
    conn,
    client,
    'register_conflict',
    CONFLICT_COLUMNS,
    CONFLICT_TYPES,
    chunk.conflicts,
    'on conflict do nothing',
  );
  const c = chunk.counts;
  const rejected = chunk.rejects.length;
  await conn.query(
    `update register_file set chunks = chunks + 1, rows = rows + $2, stored = stored + $3, flagged = flagged + $4,
       duplicate = duplicate + $5, conflict = conflict + $6, rejected = rejected + $7
     where file_id = $1`,
    [
      ctx.fileId,
      c.stored + c.flagged + c.duplicate + c.conflict + rejected,
      c.stored,
      c.flagged,
      c.duplicate,
      c.conflict,
      rejected,
    ],
  );
  await auditOn(conn, {
    staffId: audit.staffId,
    officeId: ctx.officeId,
    entityType: 'register_file',
    entityId: String(ctx.fileId),
    action: 'upload',
    after: {
      fileName: audit.fileName,
      chunk: audit.chunkNo,
      firstRow: chunk.firstRow,
      lastRow: chunk.lastRow,
      ...c,
      rejected,
    },
    requestId: audit.requestId,
    ip: audit.ip,
  });
}

/** An office's meters and their register state, as a file left them. */
interface OfficeMeters {
  /** meter_directory_version when the directory was loaded. */
  directoryVersion: number;
  /** The newest file of the office with a chunk stored, when the state was last right (0: none). */
  lastFileId: number;
  directory: MeterDirectory;
  states: MeterStates;
}

/**
 * Per database (the app's Kysely instance), per office: the meters and their state kept between files,
 * so that a day's file neither scans the office's meters again (~2 s at 230,000 meters) nor looks up
 * each meter's newest read (~8 µs a meter). Only a file holding the office's lock across the file
 * (with the pool) keeps them.
 */
const officeCaches = new WeakMap<Kysely<DB>, Map<number, OfficeMeters>>();

function cachesOf(db: Kysely<DB>): Map<number, OfficeMeters> {
  let caches = officeCaches.get(db);
  if (!caches) {
    caches = new Map();
    officeCaches.set(db, caches);
  }
  return caches;
}

/**
 * The office's meters for a file, with the lock held: those kept from the last file while no meter has
 * changed since (meter_directory_version) and no other file of the office has been stored since (by
 * another server, or a file without the pool); else loaded afresh (the state of each meter is then
 * looked up as the file first meets it).
 */
async function officeMeters(
  db: Kysely<DB>,
  client: pg.PoolClient | undefined,
  officeId: number,
): Promise<OfficeMeters> {
  return inTransaction(db, client, async (conn) => {
    await bulkSession(conn);
    const [now] = await conn.query<{ directory_version: number; last_file_id: number }>(
      `select (select version from meter_directory_version)::int8 as directory_version,
              (select coalesce(max(file_id), 0) from register_file where office_id = $1 and chunks > 0)::int8
                as last_file_id`,
      [officeId],
    );
    const directoryVersion = Number(now!.directory_version);
    const lastFileId = Number(now!.last_file_id);
    const caches = cachesOf(db);
    const kept = client ? caches.get(officeId) : undefined;
    if (kept && kept.directoryVersion === directoryVersion) {
      if (kept.lastFileId !== lastFileId) {
        kept.states = new MeterStates(kept.directory.size);
        kept.lastFileId = lastFileId;
      }
      return kept;
    }
    const directory = await loadMeterDirectory(conn, officeId);
    const fresh: OfficeMeters = {
      directoryVersion,
      lastFileId,
      directory,
      states: new MeterStates(directory.size),
    };
    if (client) caches.set(officeId, fresh);
    else caches.delete(officeId);
    return fresh;
  });
}

/**
 * The weeks' partitions of register_read the rows' read times fall in (ensure_register_weeks,
 * migration 0029), created in a transaction of their own before the chunk is checked and written
 * (creating one locks register_read).
 */
async function ensureWeeks(db: Kysely<DB>, client: pg.PoolClient | undefined, rows: ParsedRow[]) {
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const r of rows) {
    if (r.error || !r.readAt) continue;
    const ms = r.readAt.getTime();
    if (ms < from) from = ms;
    if (ms > to) to = ms;
  }
  if (from > to) return;
  const args = [new Date(from).toISOString(), new Date(to).toISOString()];
  if (client) await client.query('select ensure_register_weeks($1, $2)', args);
  else await sql`select ensure_register_weeks(${args[0]}::timestamptz, ${args[1]}::timestamptz)`.execute(db);
}

/**
 * Stores a file of register reads for an office. One file of an office at a time. With the pool, the
 * next chunk is read from the file while one is written; each chunk is checked only once the one
 * before has committed (so that it sees what that one stored).
 */
export async function processRegisterFile(
  db: Kysely<DB>,
  reqCtx: RequestContext,
  opts: RegisterOptions,
): Promise<RegisterReport> {
  const started = performance.now();
  const caller = requireCaller(reqCtx);
  const settings = await loadSettings(db);
  const anomalies = await loadAnomalyCodes(db, { activeOnly: true });
  await countRows(opts.filePath);
  const lanes: Lanes | null = opts.pool
    ? await officeLanes(opts.pool, opts.officeId, { lock: REGISTER_FILE_LOCK, lanes: 1 })
    : null;
  const client = lanes?.clients[0];
  let failed = false;
  let fileId: number | null = null;
  try {
    const file = await db
      .insertInto('register_file')
      .values({
        office_id: opts.officeId,
        file_name: opts.fileName.slice(0, 200),
        staff_id: caller.staffId,
        request_id: reqCtx.requestId,
      })
      .returning('file_id')
      .executeTakeFirstOrThrow();
    fileId = file.file_id;
    const report: RegisterReport = {
      fileId: file.file_id,
      officeId: opts.officeId,
      rows: 0,
      stored: 0,
      flagged: 0,
      duplicate: 0,
      conflict: 0,
      rejected: 0,
      errors: [],
      chunks: 0,
      seconds: 0,
      stages: { parseSeconds: 0, loadSeconds: 0, checkSeconds: 0, writeSeconds: 0 },
    };
    const t0 = performance.now();
    const known = await officeMeters(db, client, opts.officeId);
    const ctx: ChunkContext = {
      officeId: opts.officeId,
      fileId: file.file_id,
      directory: known.directory,
      states: known.states,
      rules: registerRules(settings),
      anomalies,
      now: opts.now ?? new Date(),
      timings: { loadMs: performance.now() - t0, checkMs: 0 },
    };
    let writeMs = 0;
    let writing: Promise<void> | null = null;
    const count = (chunk: DecidedChunk) => {
      for (const r of chunk.rejects) {
        report.rejected++;
        if (report.errors.length < MAX_REPORTED_ERRORS) {
          const messages = rowMessages(r.error);
          report.errors.push({
            rowNo: r.rowNo,
            meterNo: r.meterNo,
            code: r.error.code,
            message: messages[reqCtx.lang],
            messages,
          });
        }
      }
      report.stored += chunk.counts.stored;
      report.flagged += chunk.counts.flagged;
      report.duplicate += chunk.counts.duplicate;
      report.conflict += chunk.counts.conflict;
      reqCtx.audited++;
    };
    const auditOf = (chunkNo: number) => ({
      staffId: caller.staffId,
      fileName: opts.fileName,
      chunkNo,
      requestId: reqCtx.requestId,
      ip: reqCtx.ip,
    });
    const parsed = await readRowFile(opts.filePath, opts.chunkRows ?? REGISTER_CHUNK_ROWS, async (rows) => {
      report.rows += rows.length;
      const chunkNo = ++report.chunks;
      await ensureWeeks(db, client, rows);
      if (!client) {
        const chunk = await inTransaction(db, undefined, async (conn) => {
          await officeChunkLock(conn, REGISTER_FILE_LOCK, opts.officeId);
          const decided = await decideChunk(conn, rows, ctx);
          const w0 = performance.now();
          await writeChunk(conn, undefined, decided, ctx, auditOf(chunkNo));
          writeMs += performance.now() - w0;
          return decided;
        });
        count(chunk);
        return;
      }
      // The chunk before is committed before this one is checked.
      if (writing) await writing;
      const chunk = await inTransaction(db, client, async (conn) => {
        await bulkSession(conn);
        return decideChunk(conn, rows, ctx);
      });
      writing = (async () => {
        const w0 = performance.now();
        await inTransaction(db, client, (conn) => writeChunk(conn, client, chunk, ctx, auditOf(chunkNo)));
        writeMs += performance.now() - w0;
        count(chunk);
        opts.log?.(
          `registers: ${report.rows.toLocaleString('en')} rows (${report.flagged} flagged, ${report.rejected} rejected)`,
        );
      })();
      // A failure is seen where it is awaited; until then it must not count as unhandled.
      writing.catch(() => {});
    });
    if (writing) await writing;
    // What this file stored is what the meters' state in memory says.
    if (report.chunks > 0) known.lastFileId = file.file_id;
    await db
      .updateTable('register_file')
      .set({ finished_at: new Date() })
      .where('file_id', '=', file.file_id)
      .execute();
    report.errors.sort((a, b) => a.rowNo - b.rowNo);
    report.stages = {
      parseSeconds: parsed.parseMs / 1000,
      loadSeconds: ctx.timings.loadMs / 1000,
      checkSeconds: ctx.timings.checkMs / 1000,
      writeSeconds: writeMs / 1000,
    };
    report.seconds = (performance.now() - started) / 1000;
    return report;
  } catch (error) {
    failed = true;
    // The chunks stored before the failure moved some meters on: their state is read again.
    cachesOf(db).delete(opts.officeId);
    throw error;
  } finally {
    await lanes?.release(failed);
    // A file refused before any chunk was stored (its header, say) leaves no file behind.
    if (failed && fileId !== null)
      await sql`delete from register_file f where f.file_id = ${fileId} and f.chunks = 0`.execute(db);
  }
}

// ------------------------------------------------------------------ views

const m3 = (milli: number | null) => (milli === null ? null : milliText(milli));

export interface RegisterFileView extends Record<RegisterOutcome, number> {
  fileId: number;
  fileName: string;
  officeId: number;
  officeName: string;
  staffName: string;
  startedAt: string;
  finishedAt: string | null;
  rows: number;
  chunks: number;
}

/** The latest register files of the caller's offices (or of one), newest first. */
export async function recentRegisterFiles(
  db: Kysely<DB>,
  caller: Caller,
  q: { officeId?: number; limit: number },
): Promise<RegisterFileView[]> {
  const { rows } = await sql<{
    file_id: number;
    file_name: string;
    office_id: number;
    office_name: string;
    staff_name: string | null;
    started_at: Date;
    finished_at: Date | null;
    rows: number;
    chunks: number;
    stored: number;
    flagged: number;
    duplicate: number;
    conflict: number;
    rejected: number;
  }>`
    select f.*, o.name as office_name, s.full_name as staff_name
    from register_file f
    join office o on o.office_id = f.office_id
    left join staff s on s.staff_id = f.staff_id
    where ${officeCondition(caller, sql`f.office_id`, q.officeId)}
    order by f.started_at desc, f.file_id desc
    limit ${q.limit}`.execute(db);
  return rows.map((r) => ({
    fileId: r.file_id,
    fileName: r.file_name,
    officeId: r.office_id,
    officeName: r.office_name,
    staffName: r.staff_name ?? '',
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? null,
    rows: r.rows,
    chunks: r.chunks,
    stored: r.stored,
    flagged: r.flagged,
    duplicate: r.duplicate,
    conflict: r.conflict,
    rejected: r.rejected,
  }));
}

export interface RegisterExceptionView {
  kind: 'flagged' | 'conflict';
  officeId: number;
  accountId: number;
  customerCode: string;
  customerName: string;
  meterId: number;
  meterNo: string;
  readAt: string;
  indexValue: string;
  consumptionM3: string | null;
  expectedM3: string | null;
  days: number | null;
  flags: RegisterFlag[];
  anomalyCodes: string[];
  storedIndex: string | null;
  fileName: string;
}

/** China day (YYYY-MM-DD) `n` days before `day`. */
/**
 * The exceptions among the register reads of the caller's offices (or one) read between two China
 * days: reads flagged (REGISTER_EXCEPTION_BITS), or conflicts; newest first, a page of them, with their
 * count per day.
 */
export async function registerExceptions(
  db: Kysely<DB>,
  caller: Caller,
  q: {
    officeId?: number;
    from?: string;
    to?: string;
    kind: 'flagged' | 'conflict';
    page: number;
    pageSize: number;
  },
) {
  const to = q.to ?? todayInChina();
  const from = q.from ?? addDays(to, -6);
  const fromAt = sql`(${from}::date)::timestamp at time zone 'Asia/Shanghai'`;
  const toAt = sql`((${to}::date + 1)::timestamp at time zone 'Asia/Shanghai')`;
  const offices = officeCondition(caller, sql`c.office_id`, q.officeId);
  // The bits as a constant: the partial index register_read_exceptions is used only for its own
  // predicate, which a bound parameter never matches.
  const isException = sql`(x.flags & ${sql.lit(REGISTER_EXCEPTION_BITS)}) <> 0`;
  const source =
    q.kind === 'flagged'
      ? sql`select x.account_id, x.meter_id, x.read_at, x.index_milli, x.flags, x.consumption_milli, x.expected_milli,
                   x.days, x.anomaly_codes, null::bigint as stored_milli, x.file_id
            from register_read x
            where ${isException} and x.read_at >= ${fromAt} and x.read_at < ${toAt}`
      : sql`select x.account_id, x.meter_id, x.read_at, x.index_milli, 0 as flags, null::bigint as consumption_milli,
                   null::bigint as expected_milli, null::int as days, x.anomaly_codes, x.stored_milli, x.file_id
            from register_conflict x
            where x.read_at >= ${fromAt} and x.read_at < ${toAt}`;
  const [items, byDay] = await Promise.all([
    sql<{
      account_id: number;
      office_id: number;
      customer_code: string;
      customer_name: string;
      meter_id: number;
      meter_no: string;
      read_at: Date;
      index_milli: number;
      flags: number;
      consumption_milli: number | null;
      expected_milli: number | null;
      days: number | null;
      anomaly_codes: string[] | null;
      stored_milli: number | null;
      file_name: string;
    }>`
      select e.*, c.office_id, c.customer_code, c.name as customer_name, m.meter_no, f.file_name
      from (${source}) e
      join customer c on c.account_id = e.account_id
      join meter m on m.account_id = e.account_id and m.meter_id = e.meter_id
      join register_file f on f.file_id = e.file_id
      where ${offices}
      order by e.read_at desc, e.account_id desc, e.meter_id desc
      limit ${q.pageSize} offset ${(q.page - 1) * q.pageSize}`.execute(db),
    sql<{ day: string; flagged: number; conflict: number }>`
      select to_char(e.read_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD') as day,
             count(*) filter (where e.kind = 'flagged')::int as flagged,
             count(*) filter (where e.kind = 'conflict')::int as conflict
      from (
        select x.account_id, x.read_at, 'flagged' as kind from register_read x
        where ${isException} and x.read_at >= ${fromAt} and x.read_at < ${toAt}
        union all
        select x.account_id, x.read_at, 'conflict' from register_conflict x
        where x.read_at >= ${fromAt} and x.read_at < ${toAt}) e
      join customer c on c.account_id = e.account_id
      where ${offices}
      group by 1 order by 1`.execute(db),
  ]);
  return {
    from,
    to,
    // The total of the kind: the sum of its count per day (no second pass over the rows).
    total: byDay.rows.reduce((sum, d) => sum + d[q.kind], 0),
    page: q.page,
    pageSize: q.pageSize,
    byDay: byDay.rows,
    items: items.rows.map(
      (r): RegisterExceptionView => ({
        kind: q.kind,
        officeId: r.office_id,
        accountId: r.account_id,
        customerCode: r.customer_code,
        customerName: r.customer_name,
        meterId: r.meter_id,
        meterNo: r.meter_no,
        readAt: r.read_at.toISOString(),
        indexValue: milliText(r.index_milli),
        consumptionM3: m3(r.consumption_milli),
        expectedM3: m3(r.expected_milli),
        days: r.days,
        flags: registerFlagNames(r.flags),
        anomalyCodes: r.anomaly_codes ?? [],
        storedIndex: m3(r.stored_milli),
        fileName: r.file_name,
      }),
    ),
  };
}

/** A customer's register reads of the last `days` days, per meter, oldest first. */
export async function customerRegisters(db: Kysely<DB>, accountId: number, days: number) {
  const { rows } = await sql<{
    meter_id: number;
    meter_no: string;
    read_at: Date;
    index_milli: number;
    flags: number;
    consumption_milli: number | null;
    days: number | null;
    expected_milli: number | null;
    daily_milli: number | null;
    anomaly_codes: string[] | null;
  }>`
    select r.meter_id, m.meter_no, r.read_at, r.index_milli, r.flags, r.consumption_milli, r.days,
           r.expected_milli, r.daily_milli, r.anomaly_codes
    from register_read r
    join meter m on m.account_id = r.account_id and m.meter_id = r.meter_id
    where r.account_id = ${accountId} and r.read_at >= now() - make_interval(days => ${days})
    order by r.meter_id, r.read_at`.execute(db);
  const meters = new Map<
    number,
    { meterId: number; meterNo: string; dailyM3: string | null; reads: Record<string, unknown>[] }
  >();
  for (const r of rows) {
    let m = meters.get(r.meter_id);
    if (!m) {
      m = { meterId: r.meter_id, meterNo: r.meter_no, dailyM3: null, reads: [] };
      meters.set(r.meter_id, m);
    }
    // The usual daily use now: the newest read's (a late read's own figure is of its own time).
    if ((r.flags & REGISTER_FLAGS.LATE) === 0) m.dailyM3 = m3(r.daily_milli);
    m.reads.push({
      readAt: r.read_at.toISOString(),
      indexValue: milliText(r.index_milli),
      consumptionM3: m3(r.consumption_milli),
      days: r.days,
      expectedM3: m3(r.expected_milli),
      flags: registerFlagNames(r.flags),
      anomalyCodes: r.anomaly_codes ?? [],
    });
  }
  return { meters: [...meters.values()] };
}
