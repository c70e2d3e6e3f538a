import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type Bilingual, DomainError } from '@meterline/domain';
import { parse as parseCsvLine } from 'csv-parse/sync';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { RequestContext } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { loadSettings } from '../platform/settings.ts';
import { type Candidate, type IngestResult, ingestReadings } from './ingest.ts';
import { type RowError, rowMessages } from './messages.ts';
import { INDEX_PATTERN, parseReadAt, readingRules } from './model.ts';
import { loadAnomalyCodes } from './repository.ts';

/**
 * Smart-meter files (远传表): CSV rows `meter_no, read_at, index[, anomaly_codes]` for one office,
 * checked like the handheld's readings and stored chunk by chunk, each chunk one transaction. A row is
 * keyed by meter and read time, so a file sent again (or a file that stopped halfway and is sent
 * again) stores nothing twice. Rows that fail are reported with their row number and reason; the
 * rest are stored.
 */

/** Rows checked and written per transaction. */
export const BULK_CHUNK_ROWS = 50_000;
/** Row errors returned in the answer (all are counted). */
export const MAX_REPORTED_ERRORS = 1_000;
/** Rows a file may hold. */
export const MAX_BULK_ROWS = 5_000_000;

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

export interface BulkReport {
  officeId: number;
  rows: number;
  accepted: number;
  review: number;
  conflict: number;
  duplicate: number;
  rejected: number;
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

interface ParsedRow {
  rowNo: number;
  meterNo: string;
  readAt: Date | null;
  index: string | null;
  anomalyCodes: string[];
  error: RowError | null;
}

function splitLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const parsed = parseCsvLine(line, { relax_column_count: true }) as string[][];
  return parsed[0] ?? [];
}

function parseRow(rowNo: number, cells: string[], columns: Map<string, number>): ParsedRow {
  const cell = (name: string) => {
    const i = columns.get(name);
    return i === undefined ? '' : (cells[i] ?? '').trim();
  };
  const meterNo = cell('meterNo');
  const row: ParsedRow = { rowNo, meterNo, readAt: null, index: null, anomalyCodes: [], error: null };
  if (cells.length < 3 || cells.length > columns.size + 1) {
    row.error = { code: 'COLUMN_COUNT', data: {} };
    return row;
  }
  row.readAt = parseReadAt(cell('readAt'));
  if (!row.readAt) {
    row.error = { code: 'READ_AT_FORMAT', data: {} };
    return row;
  }
  const index = cell('index');
  if (index !== '' && !INDEX_PATTERN.test(index)) {
    row.error = { code: 'INDEX_FORMAT', data: {} };
    return row;
  }
  row.index = index === '' ? null : index;
  const codes = cell('anomalyCodes');
  row.anomalyCodes = codes === '' ? [] : [...new Set(codes.split(/[|;\s]+/).filter(Boolean))];
  return row;
}

export interface BulkOptions {
  officeId: number;
  filePath: string;
  fileName: string;
  dataDir: string;
  chunkRows?: number;
  now?: Date;
  log?: (msg: string) => void;
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
  const timings = { loadMs: 0, checkMs: 0, writeMs: 0 };
  const reject = (rowNo: number, meterNo: string, error: RowError) => {
    report.rejected++;
    if (report.errors.length < MAX_REPORTED_ERRORS) {
      const messages = rowMessages(error);
      report.errors.push({ rowNo, meterNo, code: error.code, message: messages[ctx.lang], messages });
    }
  };

  const flush = async (rows: ParsedRow[]) => {
    const t0 = performance.now();
    const rejectedBefore = report.rejected;
    report.chunks++;
    await db.transaction().execute(async (trx) => {
      // One file of an office at a time: two copies of the same file sent at once store it once.
      await sql`select pg_advisory_xact_lock(hashtext('readings-bulk'), ${opts.officeId}::int)`.execute(trx);
      // The chunk's histories are sorted by meter and time in memory rather than on disk.
      await sql`set local work_mem = '64MB'`.execute(trx);
      // Compiling the chunk's queries costs more than it saves: they are index probes and one sort.
      await sql`set local jit = off`.execute(trx);
      const good = rows.filter((r) => r.error === null);
      for (const r of rows) if (r.error) reject(r.rowNo, r.meterNo, r.error);
      const candidates: Candidate[] = [];
      const byRef = new Map<number, ParsedRow>();
      for (const r of good) {
        byRef.set(r.rowNo, r);
        candidates.push({
          ref: r.rowNo,
          clientId: `bulk:${r.meterNo}@${r.readAt!.toISOString()}`,
          meterNo: r.meterNo,
          readAt: r.readAt!,
          index: r.index,
          anomalyCodes: r.anomalyCodes,
          note: '',
          latitude: null,
          longitude: null,
          accuracyM: null,
          signerName: '',
          photo: null,
          signature: null,
        });
      }
      const results: IngestResult[] = await ingestReadings(trx, candidates, {
        source: 'bulk',
        readerId: null,
        deviceId: 'bulk',
        officeIds: [opts.officeId],
        rules,
        anomalies,
        now: opts.now ?? new Date(),
        dataDir: opts.dataDir,
        lockMeters: false,
        timings,
      });
      const counts = { accepted: 0, review: 0, conflict: 0, duplicate: 0, rejected: 0 };
      for (const res of results) {
        counts[res.outcome]++;
        if (res.outcome === 'rejected') {
          const row = byRef.get(res.ref)!;
          reject(row.rowNo, row.meterNo, res.error!);
        } else report[res.outcome]++;
      }
      // One audit entry per chunk, committed with the readings it stored.
      await trx
        .insertInto('audit_log')
        .values({
          staff_id: caller.staffId,
          office_id: opts.officeId,
          entity_type: 'reading_bulk',
          entity_id: opts.fileName.slice(0, 200),
          action: 'upload',
          after: JSON.stringify({
            fileName: opts.fileName,
            chunk: report.chunks,
            firstRow: rows[0]?.rowNo ?? null,
            lastRow: rows[rows.length - 1]?.rowNo ?? null,
            ...counts,
            rejected: report.rejected - rejectedBefore,
          }),
          request_id: ctx.requestId,
          ip: ctx.ip,
        })
        .execute();
      ctx.audited++;
    });
    report.stages.ingestSeconds += (performance.now() - t0) / 1000;
    opts.log?.(
      `bulk: ${report.rows.toLocaleString('en')} rows (${report.accepted} accepted, ${report.review} review, ${report.rejected} rejected)`,
    );
  };

  // Counted first, so a file over the limit is refused before any of it is stored.
  let newlines = 0;
  for await (const part of createReadStream(opts.filePath)) {
    const bytes = part as Buffer;
    for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) newlines++;
  }
  if (newlines > MAX_BULK_ROWS + 1) throw bulkFileProblem('TOO_MANY_ROWS', { max: MAX_BULK_ROWS });

  const lines = createInterface({ input: createReadStream(opts.filePath, 'utf8'), crlfDelay: Infinity });
  let columns: Map<string, number> | null = null;
  let rowNo = 0;
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
      continue;
    }
    report.rows++;
    chunk.push(parseRow(rowNo, cells, columns));
    parseMs += performance.now() - t0;
    if (chunk.length >= chunkRows) {
      await flush(chunk);
      chunk = [];
    }
  }
  if (columns === null) throw bulkFileProblem('FILE_EMPTY');
  if (chunk.length) await flush(chunk);
  report.errors.sort((a, b) => a.rowNo - b.rowNo);
  report.stages.parseSeconds = parseMs / 1000;
  report.stages.loadSeconds = timings.loadMs / 1000;
  report.stages.checkSeconds = timings.checkMs / 1000;
  report.stages.writeSeconds = timings.writeMs / 1000;
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
