import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type Bilingual, DomainError, milliOf, milliText } from '@meterline/domain';
import { parse as parseCsvLine } from 'csv-parse/sync';
import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import type { DB } from '../db/schema.ts';
import type { Caller, RequestContext } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { loadSettings } from '../platform/settings.ts';
import { CLOCK_SKEW_MS, type IngestTimings, type Outcome } from './ingest.ts';
import { type RowError, rowMessages } from './messages.ts';
import {
  type AnomalyInfo,
  decideReadingMilli,
  historyMilli,
  INDEX_PATTERN,
  parseReadAt,
  periodFromNumber,
  periodNumber,
  periodOf,
  type ReadingRules,
  readingRules,
  type StoredReadings,
  withAcceptedMilli,
} from './model.ts';
import {
  auditOn,
  type BulkConnection,
  bulkSession,
  kyselyConnection,
  loadAnomalyCodes,
  loadBulkKeys,
  loadBulkReadings,
  loadMeterDirectory,
  type MeterDirectory,
  type MeterKey,
  meterKey,
  openBulkFollowups,
  poolConnection,
} from './repository.ts';
import { officeCondition } from './service.ts';

/**
 * Smart-meter files (远传表): CSV rows `meter_no, read_at, index[, anomaly_codes]` for one office,
 * checked like the handheld's readings and stored chunk by chunk, each chunk one transaction. A row is
 * keyed by meter and read time, so a file sent again (or a file that stopped halfway and is sent
 * again) stores nothing twice. Rows that fail are reported with their row number and reason; the
 * rest are stored.
 */

const DAY_MS = 86_400_000;

/** Rows checked and written per transaction. */
export const BULK_CHUNK_ROWS = 50_000;
/** Row errors returned in the answer (all are counted). */
export const MAX_REPORTED_ERRORS = 1_000;
/** Rows a file may hold. */
export const MAX_BULK_ROWS = 5_000_000;
/**
 * Files of this many rows or more look their meters up in the office's directory, loaded once (one
 * scan of the meters: ~0.6 s at a million customers), instead of three index probes a row (~20 µs of
 * PostgreSQL each row).
 */
export const BULK_DIRECTORY_ROWS = 20_000;

const HEADERS: Record<string, 'meterNo' | 'readAt' | 'index' | 'anomalyCodes'> = {
  meter_no: 'meterNo',
  meterno: 'meterNo',
  表号: 'meterNo',
  read_at: 'readAt',
  readat: 'readAt',
  抄表时间: 'readAt',
  index: 'index',
  读数: 'index',
  本次读数: 'index',
  anomaly_codes: 'anomalyCodes',
  anomalycodes: 'anomalyCodes',
  异常代码: 'anomalyCodes',
};

export const bulkFileProblem = (code: 'HEADER_MISSING' | 'TOO_MANY_ROWS' | 'FILE_EMPTY', data = {}) => {
  const messages: Record<typeof code, Bilingual> = {
    HEADER_MISSING: {
      'zh-CN': '第一行应为表头：表号,抄表时间,读数[,异常代码]（或 meter_no,read_at,index[,anomaly_codes]）',
      en: 'The first row must be the header: meter_no,read_at,index[,anomaly_codes]',
    },
    TOO_MANY_ROWS: { 'zh-CN': '文件超过 {max} 行', en: 'The file has more than {max} rows' },
    FILE_EMPTY: { 'zh-CN': '文件为空', en: 'The file is empty' },
  };
  return new DomainError('VALIDATION', data, messages[code], [
    { path: 'file', code, messages: messages[code] },
  ]);
};

export interface BulkRowError {
  rowNo: number;
  meterNo: string;
  code: string;
  message: string;
  messages: Bilingual;
}

/** Rows of a file by outcome: the same five counts in the upload's answer and in its list of files. */
export interface BulkReport extends Record<Outcome, number> {
  officeId: number;
  rows: number;
  errors: BulkRowError[];
  chunks: number;
  seconds: number;
  /** Where the time went (for the benchmark): reading the file, loading each row's meter and history,
   * checking the rows (the domain rules), writing readings and follow-ups, the whole of each chunk. */
  stages: {
    parseSeconds: number;
    loadSeconds: number;
    checkSeconds: number;
    writeSeconds: number;
    ingestSeconds: number;
  };
}

export interface ParsedRow {
  rowNo: number;
  meterNo: string;
  readAt: Date | null;
  index: string | null;
  anomalyCodes: readonly string[];
  error: RowError | null;
  /** The period the reading is for, when not the month of its read time (a book's planned day's). */
  period?: string;
}

const NO_CODES: readonly string[] = Object.freeze([]);

function splitLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const parsed = parseCsvLine(line, { relax_column_count: true }) as string[][];
  return parsed[0] ?? [];
}

/** Reads a file's rows: smart-meter files repeat the same read time row after row, parsed once. */
class RowParser {
  private lastText = '';
  private lastReadAt: Date | null = null;
  constructor(private readonly columns: Map<string, number>) {}

  private cell(cells: string[], name: string): string {
    const i = this.columns.get(name);
    return i === undefined ? '' : (cells[i] ?? '').trim();
  }

  parse(rowNo: number, cells: string[]): ParsedRow {
    const { columns } = this;
    const meterNo = this.cell(cells, 'meterNo');
    const row: ParsedRow = { rowNo, meterNo, readAt: null, index: null, anomalyCodes: NO_CODES, error: null };
    if (cells.length < 3 || cells.length > columns.size + 1) {
      row.error = { code: 'COLUMN_COUNT', data: {} };
      return row;
    }
    const readAtText = this.cell(cells, 'readAt');
    if (readAtText !== this.lastText || this.lastReadAt === null) {
      this.lastText = readAtText;
      this.lastReadAt = parseReadAt(readAtText);
    }
    row.readAt = this.lastReadAt;
    if (!row.readAt) {
      row.error = { code: 'READ_AT_FORMAT', data: {} };
      return row;
    }
    const index = this.cell(cells, 'index');
    if (index !== '' && !INDEX_PATTERN.test(index)) {
      row.error = { code: 'INDEX_FORMAT', data: {} };
      return row;
    }
    row.index = index === '' ? null : index;
    const codes = this.cell(cells, 'anomalyCodes');
    if (codes !== '') row.anomalyCodes = [...new Set(codes.split(/[|;\s]+/).filter(Boolean))];
    return row;
  }
}

/**
 * The lines of a file, counted before any of it is stored, so that a file over the limit
 * (MAX_BULK_ROWS) is refused whole.
 */
export async function countRows(filePath: string): Promise<number> {
  let newlines = 0;
  for await (const part of createReadStream(filePath)) {
    const bytes = part as Buffer;
    for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) newlines++;
  }
  if (newlines > MAX_BULK_ROWS + 1) throw bulkFileProblem('TOO_MANY_ROWS', { max: MAX_BULK_ROWS });
  return newlines;
}

/**
 * Reads a smart-meter file (its header, then its rows, each parsed on its own) and hands its rows on
 * `chunkRows` at a time, awaiting each hand-over. Throws HEADER_MISSING or FILE_EMPTY.
 */
export async function readRowFile(
  filePath: string,
  chunkRows: number,
  onChunk: (rows: ParsedRow[]) => Promise<void>,
): Promise<{ rows: number; parseMs: number }> {
  const lines = createInterface({ input: createReadStream(filePath, 'utf8'), crlfDelay: Infinity });
  let columns: Map<string, number> | null = null;
  let parser: RowParser | null = null;
  let rowNo = 0;
  let rows = 0;
  let chunk: ParsedRow[] = [];
  let parseMs = 0;
  for await (const raw of lines) {
    rowNo++;
    const t0 = performance.now();
    const line = rowNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '') continue;
    const cells = splitLine(line);
    if (columns === null) {
      columns = new Map();
      for (const [i, h] of cells.entries()) {
        const name = HEADERS[h.trim().toLowerCase()];
        if (name && !columns.has(name)) columns.set(name, i);
      }
      if (!columns.has('meterNo') || !columns.has('readAt') || !columns.has('index')) {
        lines.close();
        throw bulkFileProblem('HEADER_MISSING');
      }
      parser = new RowParser(columns);
      continue;
    }
    rows++;
    chunk.push(parser!.parse(rowNo, cells));
    parseMs += performance.now() - t0;
    if (chunk.length >= chunkRows) {
      await onChunk(chunk);
      chunk = [];
    }
  }
  if (columns === null) throw bulkFileProblem('FILE_EMPTY');
  if (chunk.length) await onChunk(chunk);
  return { rows, parseMs };
}

export interface BulkOptions {
  officeId: number;
  filePath: string;
  fileName: string;
  dataDir: string;
  /**
   * A pool of raw connections: each chunk then reads its meters' readings and writes its own through
   * COPY. Without it the chunks run on `db` with plain queries and inserts (same results, slower).
   */
  pool?: pg.Pool;
  chunkRows?: number;
  /** Rows from which a file loads the office's meter directory (BULK_DIRECTORY_ROWS). */
  directoryFromRows?: number;
  now?: Date;
  log?: (msg: string) => void;
}

/** What a chunk counted and which of its rows it rejected (in the order found). */
export interface ChunkResult {
  counts: Record<Outcome, number>;
  rejects: { rowNo: number; meterNo: string; error: RowError }[];
}

export interface ChunkOptions {
  officeId: number;
  /** What the rows' client ids start with ('bulk' unless given): `<prefix>:<meter no>@<read time>`. */
  clientPrefix?: string;
  rules: ReadingRules;
  anomalies: ReadonlyMap<string, AnomalyInfo>;
  now: Date;
  timings: IngestTimings;
  /** The office's meters, for a large file (else each chunk looks its meters up). */
  directory: MeterDirectory | null;
  /** Awaited with the chunk's meters before their readings are loaded, and before the chunk writes. */
  beforeLoad?: (meters: readonly MeterKey[]) => Promise<void>;
  beforeWrite?: () => Promise<void>;
}

/** A row of the file that passed its own checks and is no repeat within its chunk. */
interface Fresh {
  row: ParsedRow;
  readAt: Date;
  readAtIso: string;
  clientId: string;
  indexMilli: number | null;
  /** Its own period (the month of readAt in China). */
  ownPeriod: string;
  outcome: Outcome | null;
  error: RowError | null;
}

/** Read times of a chunk in their forms (most files have one or a few). */
class ReadTimes {
  private last: Date | null = null;
  iso = '';
  period = '';
  of(at: Date): this {
    if (at !== this.last) {
      this.last = at;
      this.iso = at.toISOString();
      this.period = periodOf(at);
    }
    return this;
  }
}

/**
 * One chunk of a smart-meter file, inside its transaction: the same outcome for every row as
 * ingestReadings gives (bulk.test.ts compares them), set-based — one query for the rows' meters and
 * earlier client ids, one for the readings of the meters still in question, each meter decided as
 * its readings arrive (the rules in integers), one COPY of the readings, one statement for the
 * follow-ups.
 */
export async function ingestBulkChunk(
  conn: BulkConnection,
  rows: ParsedRow[],
  opts: ChunkOptions,
): Promise<ChunkResult> {
  const t0 = performance.now();
  const counts: Record<Outcome, number> = { accepted: 0, review: 0, conflict: 0, duplicate: 0, rejected: 0 };
  const rejects: ChunkResult['rejects'] = [];
  for (const r of rows) if (r.error) rejects.push({ rowNo: r.rowNo, meterNo: r.meterNo, error: r.error });

  // The same client id twice in the chunk: the later ones answer as the first one did. (The client
  // id holds the meter number and the read time, so it alone is the key ingestReadings uses.)
  const fresh: Fresh[] = [];
  const firstOf = new Map<string, Fresh>();
  const answerOf: (Fresh | null)[] = new Array(rows.length).fill(null);
  const times = new ReadTimes();
  const prefix = opts.clientPrefix ?? 'bulk';
  for (const [at, row] of rows.entries()) {
    if (row.error) continue;
    const time = times.of(row.readAt!);
    const clientId = `${prefix}:${row.meterNo}@${time.iso}`;
    const first = firstOf.get(clientId);
    if (first) {
      answerOf[at] = first;
      continue;
    }
    const f: Fresh = {
      row,
      readAt: row.readAt!,
      readAtIso: time.iso,
      clientId,
      indexMilli: row.index === null ? null : milliOf(row.index),
      ownPeriod: row.period ?? time.period,
      outcome: null,
      error: null,
    };
    firstOf.set(clientId, f);
    answerOf[at] = f;
    fresh.push(f);
  }
  // The window the rules look back from (as loadContexts has it): the chunk's read times and now.
  let fromMs = opts.now.getTime();
  let toMs = fromMs;
  for (const c of fresh) {
    const ms = c.readAt.getTime();
    if (ms < fromMs) fromMs = ms;
    if (ms > toMs) toMs = ms;
  }
  const season = { fromUs: (fromMs - 400 * DAY_MS) * 1000, toUs: (toMs - 330 * DAY_MS) * 1000 };
  const recentFrom = new Date(fromMs - 124 * DAY_MS).toISOString().slice(0, 7);
  const recentFromNo = periodNumber(recentFrom);

  const keys = await loadBulkKeys(
    conn,
    fresh.map((c) => ({ meterNo: c.row.meterNo, clientId: c.clientId })),
    opts.directory,
  );
  const reject = (c: Fresh, error: RowError) => {
    c.outcome = 'rejected';
    c.error = error;
  };
  const latest = opts.now.getTime() + CLOCK_SKEW_MS;
  const valid: number[] = [];
  for (const [i, c] of fresh.entries()) {
    if (!keys.found[i] || keys.officeId[i] !== opts.officeId) {
      reject(c, { code: 'METER_NO_UNKNOWN', data: { meterNo: c.row.meterNo } });
    } else if (keys.duplicate[i]) {
      c.outcome = 'duplicate';
    } else if (!keys.inService[i]) {
      reject(c, { code: 'METER_REMOVED', data: {} });
    } else if (c.readAt.getTime() > latest) {
      reject(c, { code: 'READ_AT_FUTURE', data: {} });
    } else {
      const unknown = c.row.anomalyCodes.find((code) => !opts.anomalies.has(code));
      if (unknown !== undefined) reject(c, { code: 'ANOMALY_UNKNOWN', data: { code: unknown } });
      else valid.push(i);
    }
  }

  // Oldest first per meter, so a later reading of the chunk counts from an earlier one; the meters in
  // key order, so that their readings are read (and the new ones written) page after page.
  valid.sort(
    (a, b) =>
      keys.accountId[a]! - keys.accountId[b]! ||
      keys.meterId[a]! - keys.meterId[b]! ||
      fresh[a]!.readAt.getTime() - fresh[b]!.readAt.getTime(),
  );
  /** The valid rows of each meter: valid[groupStart[g]] … valid[groupStart[g + 1] − 1]. */
  const groupStart: number[] = [];
  const groups: MeterKey[] = [];
  for (const [v, i] of valid.entries()) {
    const previous = v > 0 ? valid[v - 1]! : -1;
    if (
      previous === -1 ||
      keys.accountId[previous] !== keys.accountId[i] ||
      keys.meterId[previous] !== keys.meterId[i]
    ) {
      groupStart.push(v);
      groups.push({ accountId: keys.accountId[i]!, meterId: keys.meterId[i]! });
    }
  }
  groupStart.push(valid.length);

  const writer = conn.readingWriter();
  const followups: { accountId: number; clientId: string; code: string; department: string }[] = [];
  let decideMs = 0;
  const decideMeter = (g: number, stored: StoredReadings) => {
    const d0 = performance.now();
    const first = valid[groupStart[g]!]!;
    const accountId = keys.accountId[first]!;
    const meterId = keys.meterId[first]!;
    const bookId = Number.isNaN(keys.bookId[first]!) ? null : keys.bookId[first]!;
    let history = historyMilli(
      stored,
      { dialDigits: keys.dialDigits[first]!, initialMilli: keys.initialMilli[first]! },
      season,
    );
    const revisit = stored.revisitPeriod(recentFromNo);
    /** Readings standing for the meter per period: those stored, then those of this chunk. */
    const live = new Map<number, { estimated: boolean; indexMilli: number | null }[]>();
    for (let v = groupStart[g]!; v < groupStart[g + 1]!; v++) {
      const c = fresh[valid[v]!]!;
      const decision = decideReadingMilli(
        { indexMilli: c.indexMilli, readAt: c.readAt, anomalyCodes: c.row.anomalyCodes },
        history,
        opts.anomalies,
        opts.rules,
      );
      if (!decision.ok) {
        reject(c, { code: decision.code, data: decision.data });
        continue;
      }
      // A meter review sent back is read for the period it was rejected in.
      const own = periodNumber(c.ownPeriod);
      const period = revisit !== null && revisit < own ? revisit : own;
      let standing = live.get(period);
      if (!standing) {
        standing = period === own ? stored.standing(period, recentFromNo) : [];
        live.set(period, standing);
      }
      // The same reading again under another client id: kept once (sameReading).
      const estimated = decision.kind === 'estimated';
      const same = standing.some((l) =>
        l.indexMilli === null || decision.indexMilli === null
          ? l.indexMilli === decision.indexMilli && l.estimated === estimated
          : l.indexMilli === decision.indexMilli,
      );
      if (same) {
        c.outcome = 'duplicate';
        continue;
      }
      const status = standing.length > 0 ? 'conflict' : decision.status;
      c.outcome = status;
      writer.add({
        accountId,
        meterId,
        bookId,
        period: period === own ? c.ownPeriod : periodFromNumber(period),
        readAt: c.readAt,
        readAtIso: c.readAtIso,
        previousIndex: milliText(decision.previousMilli),
        indexValue: decision.indexMilli === null ? null : milliText(decision.indexMilli),
        consumptionM3: decision.consumptionMilli === null ? null : milliText(decision.consumptionMilli),
        kind: decision.kind,
        anomalyCodes: c.row.anomalyCodes,
        flags: decision.flags,
        clientId: c.clientId,
        status,
      });
      for (const code of c.row.anomalyCodes) {
        followups.push({
          accountId,
          clientId: c.clientId,
          code,
          department: opts.anomalies.get(code)!.department,
        });
      }
      standing.push({ estimated, indexMilli: decision.indexMilli });
      if (status === 'accepted') history = withAcceptedMilli(history, { ...decision, readAt: c.readAt });
    }
    decideMs += performance.now() - d0;
  };
  // The readings of the meters still in question (none when the file is sent again), each meter
  // decided as soon as its readings are in.
  // (Waiting for the chunk before this one, when there is one at work, counts in no stage.)
  let waitMs = performance.now();
  await opts.beforeLoad?.(groups);
  waitMs = performance.now() - waitMs;
  await loadBulkReadings(conn, groups, recentFrom, decideMeter, season.fromUs);
  let t2 = performance.now();
  await opts.beforeWrite?.();
  waitMs += performance.now() - t2;
  t2 = performance.now();
  await writer.finish();
  await openBulkFollowups(conn, followups);
  opts.timings.loadMs += t2 - t0 - decideMs - waitMs;
  opts.timings.checkMs += decideMs;
  opts.timings.writeMs += performance.now() - t2;

  // In the file's order: the chunk's rows, repeats answering as their first.
  for (const [at, row] of rows.entries()) {
    const c = answerOf[at];
    if (!c) continue;
    if (c.outcome === 'rejected') {
      counts.rejected++;
      rejects.push({ rowNo: row.rowNo, meterNo: row.meterNo, error: c.error! });
    } else counts[c.row === row ? c.outcome! : 'duplicate']++;
  }
  return { counts, rejects };
}

/** How long an upload waits for another file of the same office to be stored, and how often it looks. */
const OFFICE_LOCK_WAIT_MS = 60 * 60_000;
const OFFICE_LOCK_POLL_MS = 250;

/**
 * The connections a file is stored on with the pool: the first holds the lock on the office's files
 * (a session lock, so the file holds it from its first chunk to its last); a second, taken only if
 * the pool has one to spare at once, lets the next chunk read while one writes. Both are the file's
 * until `release`, so an upload never waits for a connection while it holds one (no starved pool).
 */
export interface Lanes {
  clients: pg.PoolClient[];
  release(broken: boolean): Promise<void>;
}

/** The office locks: one smart-meter file (or register billing run) of an office at a time, one register file. */
export const BULK_FILE_LOCK = 'readings-bulk';
export const REGISTER_FILE_LOCK = 'readings-registers';

/**
 * The office's lock for one chunk's transaction (held until it ends), when there is no pool to hold
 * it for the whole file (officeLanes): the same lock.
 */
export async function officeChunkLock(conn: BulkConnection, lock: string, officeId: number): Promise<void> {
  await conn.query(`select pg_advisory_xact_lock(hashtext($1), $2::int)`, [lock, officeId]);
}

export async function officeLanes(
  pool: pg.Pool,
  officeId: number,
  /** The lock's name (one file of an office at a time, per kind of file) and whether a second lane may be taken. */
  opts: { lock: string; lanes: 1 | 2 } = { lock: BULK_FILE_LOCK, lanes: 2 },
): Promise<Lanes> {
  const lockSql = `select pg_try_advisory_lock(hashtext('${opts.lock}'), $1::int) as locked`;
  const until = Date.now() + OFFICE_LOCK_WAIT_MS;
  let first: pg.PoolClient;
  // Waiting holds no connection: try, give the connection back, try again a moment later.
  for (;;) {
    first = await pool.connect();
    try {
      if ((await first.query<{ locked: boolean }>(lockSql, [officeId])).rows[0]!.locked) break;
    } catch (error) {
      first.release(true);
      throw error;
    }
    first.release();
    if (Date.now() > until) throw new Error(`office ${officeId}: another file has been storing for too long`);
    await new Promise((resolve) => setTimeout(resolve, OFFICE_LOCK_POLL_MS));
  }
  const clients = [first];
  if (opts.lanes === 2 && (pool.idleCount > 0 || pool.totalCount < (pool.options.max ?? 10)))
    clients.push(await pool.connect());
  return {
    clients,
    async release(broken) {
      const [lockHolder, ...others] = clients;
      for (const c of others) c.release(broken);
      if (broken) {
        // Closing the connection ends its session: its transaction is rolled back, its lock let go.
        lockHolder!.release(true);
        return;
      }
      try {
        await lockHolder!.query(`select pg_advisory_unlock(hashtext('${opts.lock}'), $1::int)`, [officeId]);
        lockHolder!.release();
      } catch {
        lockHolder!.release(true);
      }
    },
  };
}

/**
 * Runs `work` in one transaction: on a connection of the file's (`client`), else on `db`. A chunk
 * that fails leaves its connection as it is (a COPY cut off halfway leaves it in no state to talk):
 * the caller closes the file's connections, and PostgreSQL rolls the transaction back.
 */
export async function inTransaction<T>(
  db: Kysely<DB>,
  client: pg.PoolClient | undefined,
  work: (conn: BulkConnection) => Promise<T>,
): Promise<T> {
  if (!client) return db.transaction().execute((trx) => work(kyselyConnection(trx)));
  await client.query('begin');
  const result = await work(poolConnection(client));
  await client.query('commit');
  return result;
}

export async function processBulkFile(
  db: Kysely<DB>,
  ctx: RequestContext,
  opts: BulkOptions,
): Promise<BulkReport> {
  const started = performance.now();
  const caller = requireCaller(ctx);
  const chunkRows = opts.chunkRows ?? BULK_CHUNK_ROWS;
  const settings = await loadSettings(db);
  const rules = readingRules(settings);
  const anomalies = await loadAnomalyCodes(db, { activeOnly: true });
  const report: BulkReport = {
    officeId: opts.officeId,
    rows: 0,
    accepted: 0,
    review: 0,
    conflict: 0,
    duplicate: 0,
    rejected: 0,
    errors: [],
    chunks: 0,
    seconds: 0,
    stages: { parseSeconds: 0, loadSeconds: 0, checkSeconds: 0, writeSeconds: 0, ingestSeconds: 0 },
  };
  const timings: IngestTimings = { loadMs: 0, checkMs: 0, writeMs: 0 };
  const reject = (rowNo: number, meterNo: string, error: RowError) => {
    report.rejected++;
    if (report.errors.length < MAX_REPORTED_ERRORS) {
      const messages = rowMessages(error);
      report.errors.push({ rowNo, meterNo, code: error.code, message: messages[ctx.lang], messages });
    }
  };

  /**
   * A chunk at work, for the next one: its meter numbers at once, its meters once it knows them, and
   * its end (committed, or failed).
   */
  interface InFlight {
    meterNos: Set<string>;
    meters: Promise<Set<string>>;
    done: Promise<void>;
  }
  let inFlight: InFlight | null = null;

  /**
   * Stores one chunk in its own transaction. With the pool, the next chunk reads (its meters, their
   * readings, the rules) while this one writes, on a connection of its own — unless they share a
   * meter, in which case it waits to see what this one stored; it writes only after this one has
   * committed, so the chunks commit in the file's order.
   */
  const runChunk = async (
    rows: ParsedRow[],
    chunkNo: number,
    before: InFlight | null,
    knowMeters: (m: Set<string>) => void,
    client: pg.PoolClient | undefined,
  ) => {
    const t0 = performance.now();
    const sharesNumbers = before !== null && rows.some((r) => before.meterNos.has(r.meterNo));
    if (before && sharesNumbers) await before.done;
    const { counts, rejects } = await inTransaction(db, client, async (conn) => {
      // One file of an office at a time (with the pool, the whole file holds the lock; see below).
      if (!client) await officeChunkLock(conn, BULK_FILE_LOCK, opts.officeId);
      await bulkSession(conn);
      const result = await ingestBulkChunk(conn, rows, {
        officeId: opts.officeId,
        rules,
        anomalies,
        now: opts.now ?? new Date(),
        timings,
        directory,
        beforeLoad: async (meters) => {
          const keys = new Set(meters.map((m) => meterKey(m.accountId, m.meterId)));
          knowMeters(keys);
          if (before && !sharesNumbers) {
            const theirs = await before.meters;
            if (meters.some((m) => theirs.has(meterKey(m.accountId, m.meterId)))) await before.done;
          }
        },
        beforeWrite: async () => {
          if (before) await before.done;
        },
      });
      // One audit entry per chunk, committed with the readings it stored.
      await auditOn(conn, {
        staffId: caller.staffId,
        officeId: opts.officeId,
        entityType: 'reading_bulk',
        entityId: opts.fileName.slice(0, 200),
        action: 'upload',
        after: {
          fileName: opts.fileName,
          chunk: chunkNo,
          firstRow: rows[0]?.rowNo ?? null,
          lastRow: rows[rows.length - 1]?.rowNo ?? null,
          ...result.counts,
          rejected: result.rejects.length,
        },
        requestId: ctx.requestId,
        ip: ctx.ip,
      });
      return result;
    });
    // Counted once the chunk is in (a chunk that fails counts nothing), in the file's order.
    for (const r of rejects) reject(r.rowNo, r.meterNo, r.error);
    report.accepted += counts.accepted;
    report.review += counts.review;
    report.conflict += counts.conflict;
    report.duplicate += counts.duplicate;
    ctx.audited++;
    report.stages.ingestSeconds += (performance.now() - t0) / 1000;
    opts.log?.(
      `bulk: ${report.rows.toLocaleString('en')} rows (${report.accepted} accepted, ${report.review} review, ${report.rejected} rejected)`,
    );
  };

  /** Starts a chunk; returns once at most one chunk is still at work (so memory holds two). */
  const flush = async (rows: ParsedRow[]) => {
    report.chunks++;
    const before = inFlight;
    let knowMeters: (m: Set<string>) => void = () => {};
    const meters = new Promise<Set<string>>((resolve) => {
      knowMeters = resolve;
    });
    const mine: InFlight = { meterNos: new Set(rows.map((r) => r.meterNo)), meters, done: Promise.resolve() };
    // The chunks take the file's connections in turn (with one connection, each waits for the last).
    const client = lanes?.clients[(report.chunks - 1) % lanes.clients.length];
    if (before && lanes?.clients.length === 1) await before.done;
    mine.done = runChunk(rows, report.chunks, before, knowMeters, client).finally(() =>
      knowMeters(new Set()),
    );
    // A failure is seen where the chunk is awaited; until then it must not count as unhandled.
    mine.done.catch(() => {});
    inFlight = mine;
    if (before) await before.done;
    if (!lanes) await mine.done;
  };

  // Counted first, so a file over the limit is refused before any of it is stored.
  const newlines = await countRows(opts.filePath);
  // One file of an office at a time: two copies of the same file sent at once store it once. With
  // the pool the file holds the lock from its first chunk to its last (so that two of its chunks may
  // be at work at once); without it, each chunk's transaction takes it.
  const lanes = opts.pool ? await officeLanes(opts.pool, opts.officeId) : null;
  let failed = false;
  let directory: MeterDirectory | null = null;
  try {
    if (newlines - 1 >= (opts.directoryFromRows ?? BULK_DIRECTORY_ROWS)) {
      const t0 = performance.now();
      directory = await inTransaction(db, lanes?.clients[0], (conn) =>
        loadMeterDirectory(conn, opts.officeId),
      );
      timings.loadMs += performance.now() - t0;
      opts.log?.(`bulk: ${directory.size.toLocaleString('en')} meters of the office loaded`);
    }
    const parsed = await readRowFile(opts.filePath, chunkRows, async (rows) => {
      report.rows += rows.length;
      await flush(rows);
    });
    if (inFlight) await (inFlight as InFlight).done;
    report.stages.parseSeconds = parsed.parseMs / 1000;
  } catch (error) {
    failed = true;
    // The chunk still at work ends (unwritten: the one before it failed) before the connections go.
    if (inFlight) await (inFlight as InFlight).done.catch(() => {});
    throw error;
  } finally {
    await lanes?.release(failed);
  }
  report.errors.sort((a, b) => a.rowNo - b.rowNo);
  report.stages.loadSeconds = timings.loadMs / 1000;
  report.stages.checkSeconds = timings.checkMs / 1000;
  report.stages.writeSeconds = timings.writeMs / 1000;
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** A smart-meter file as its chunks' audit entries record it (the chunks that were stored). */
export interface BulkFileView extends Record<Outcome, number> {
  requestId: string;
  fileName: string;
  officeId: number;
  officeName: string;
  staffName: string;
  /** When its first and last stored chunk committed. */
  firstAt: string;
  lastAt: string;
  chunks: number;
  /** Rows of the stored chunks: the sum of the outcomes. */
  rows: number;
}

/** The latest smart-meter files of the caller's offices (or of one), newest first. */
export async function recentBulkFiles(
  db: Kysely<DB>,
  caller: Caller,
  q: { officeId?: number; limit: number },
): Promise<BulkFileView[]> {
  const { rows } = await sql<{
    request_id: string;
    file_name: string;
    office_id: number;
    office_name: string;
    staff_name: string | null;
    first_at: Date;
    last_at: Date;
    chunks: number;
    accepted: number;
    review: number;
    conflict: number;
    duplicate: number;
    rejected: number;
  }>`
    select a.request_id, min(a.after->>'fileName') as file_name, a.office_id, o.name as office_name,
           min(s.full_name) as staff_name, min(a.at) as first_at, max(a.at) as last_at, count(*)::int as chunks,
           sum((a.after->>'accepted')::int)::int as accepted, sum((a.after->>'review')::int)::int as review,
           sum((a.after->>'conflict')::int)::int as conflict, sum((a.after->>'duplicate')::int)::int as duplicate,
           sum((a.after->>'rejected')::int)::int as rejected
    from audit_log a
    join office o on o.office_id = a.office_id
    left join staff s on s.staff_id = a.staff_id
    where a.entity_type = 'reading_bulk' and ${officeCondition(caller, sql`a.office_id`, q.officeId)}
    group by a.request_id, a.office_id, o.name
    order by max(a.at) desc
    limit ${q.limit}`.execute(db);
  return rows.map((r) => ({
    requestId: r.request_id,
    fileName: r.file_name,
    officeId: r.office_id,
    officeName: r.office_name,
    staffName: r.staff_name ?? '',
    firstAt: r.first_at.toISOString(),
    lastAt: r.last_at.toISOString(),
    chunks: r.chunks,
    rows: r.accepted + r.review + r.conflict + r.duplicate + r.rejected,
    accepted: r.accepted,
    review: r.review,
    conflict: r.conflict,
    duplicate: r.duplicate,
    rejected: r.rejected,
  }));
}
