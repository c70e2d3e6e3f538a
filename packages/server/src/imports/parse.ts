import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { parse as parseCsv } from 'csv-parse';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { describeColumnGroup, type HeaderMap, mapHeader } from './columns.ts';
import { FileProblemError, fileProblem } from './messages.ts';

/**
 * Reading import files: what kind of file it is, which text encoding a CSV uses, and its rows
 * one at a time (streamed: a 100,000-row file is never held in memory).
 */

export type FileFormat = 'csv' | 'xlsx' | 'xls';
/** Encodings of CSV files; Chinese Excel saves "CSV (逗号分隔)" in GBK. */
export type TextEncoding = 'utf-8' | 'gbk' | 'utf-16le' | 'utf-16be';

const ICONV_NAMES: Record<TextEncoding, string> = {
  'utf-8': 'utf-8',
  // GB18030 is a superset of GBK (and of GB2312): it decodes every file Excel writes as "GBK".
  gbk: 'gb18030',
  'utf-16le': 'utf-16le',
  'utf-16be': 'utf-16be',
};

/** Bytes looked at to sniff the format and check for binary content. */
const SNIFF_BYTES = 64 * 1024;
/** A CSV record larger than this is a broken file (an unclosed quote), not data. */
const MAX_RECORD_BYTES = 1024 * 1024;
/** Rows above the header that may hold a title ("XX营业所用户资料"). */
const MAX_TITLE_ROWS = 5;

/** The format by the file's first bytes (the name's extension is not trusted). */
export function sniffFormat(head: Buffer): FileFormat {
  if (head.length >= 4 && head.readUInt32BE(0) === 0x504b0304) return 'xlsx';
  if (head.length >= 4 && head.readUInt32BE(0) === 0xd0cf11e0) return 'xls';
  return 'csv';
}

async function readHead(filePath: string, bytes: number): Promise<Buffer> {
  const handle = await open(filePath, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Whether the whole file is valid UTF-8; if not, the byte offset where it stops being so. */
async function firstInvalidUtf8(filePath: string): Promise<number | null> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  try {
    for await (const chunk of createReadStream(filePath)) {
      decoder.decode(chunk as Buffer, { stream: true });
      offset += (chunk as Buffer).length;
    }
    decoder.decode();
    return null;
  } catch {
    // The decoder fails within the chunk it was given; the chunk start is close enough to point at.
    return offset;
  }
}

/** Whether a GBK decoding of the file hits byte sequences that are not GBK; returns where. */
async function firstInvalidGbk(filePath: string): Promise<number | null> {
  const decoder = iconv.getDecoder('gb18030');
  let offset = 0;
  for await (const chunk of createReadStream(filePath)) {
    const text = decoder.write(chunk as Buffer);
    const bad = text.indexOf('\uFFFD');
    if (bad >= 0) return offset;
    offset += (chunk as Buffer).length;
  }
  return decoder.end()?.includes('\uFFFD') ? offset : null;
}

/** C0 control characters other than tab, line feed and carriage return: binary content. */
function hasControlCharacters(text: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting them is the point
  return /[\u0000-\u0008\u000B\u000C\u000E-\u001A\u001C-\u001F]/.test(text);
}

/**
 * The text encoding of a CSV file: a byte-order mark decides; otherwise UTF-8 when every byte
 * sequence is valid UTF-8, else GBK when every sequence is valid GBK. Anything else is refused
 * with a message naming the problem.
 */
export async function detectEncoding(filePath: string): Promise<TextEncoding> {
  const head = await readHead(filePath, SNIFF_BYTES);
  if (head.length === 0) throw new FileProblemError(fileProblem('FILE_EMPTY'));
  let encoding: TextEncoding;
  if (head[0] === 0xff && head[1] === 0xfe) encoding = 'utf-16le';
  else if (head[0] === 0xfe && head[1] === 0xff) encoding = 'utf-16be';
  else {
    const nulls = head.reduce((n, b) => n + (b === 0 ? 1 : 0), 0);
    if (nulls > 0) {
      // Text in UTF-16 without a BOM has a NUL in every other byte (for ASCII and most Chinese).
      const evenNulls = head.filter((b, i) => i % 2 === 0 && b === 0).length;
      const oddNulls = nulls - evenNulls;
      const half = head.length / 2;
      if (evenNulls > half * 0.3 || oddNulls > half * 0.3) {
        throw new FileProblemError(fileProblem('FILE_UTF16_NO_BOM'));
      }
      throw new FileProblemError(fileProblem('FILE_BINARY'));
    }
    const badUtf8 = await firstInvalidUtf8(filePath);
    if (badUtf8 === null) encoding = 'utf-8';
    else {
      const badGbk = await firstInvalidGbk(filePath);
      if (badGbk !== null) throw new FileProblemError(fileProblem('FILE_ENCODING', { offset: badGbk }));
      encoding = 'gbk';
    }
  }
  const sample = iconv.decode(head, ICONV_NAMES[encoding]);
  if (hasControlCharacters(sample)) throw new FileProblemError(fileProblem('FILE_BINARY'));
  return encoding;
}

/** Comma, or tab when the first line has more tabs than commas (Excel's "Unicode text"). */
async function detectDelimiter(filePath: string, encoding: TextEncoding): Promise<string> {
  const text = iconv.decode(await readHead(filePath, SNIFF_BYTES), ICONV_NAMES[encoding]);
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const tabs = firstLine.split('\t').length - 1;
  const commas = firstLine.split(',').length - 1;
  return tabs > commas ? '\t' : ',';
}

/** One row of a sheet: its row number as a spreadsheet shows it, and its cells as text. */
export interface SheetRow {
  rowNo: number;
  cells: string[];
}

export interface ReadOptions {
  format: 'csv' | 'xlsx';
  encoding: TextEncoding | null;
  delimiter: string;
}

/** A cell that Excel would show as a formula: a leading ' written by our reports is dropped. */
function cleanCell(text: string): string {
  return text.length > 1 && text[0] === "'" && /^'[=+\-@]/.test(text) ? text.slice(1) : text;
}

async function* csvRows(
  filePath: string,
  encoding: TextEncoding,
  delimiter: string,
): AsyncGenerator<SheetRow> {
  const input = createReadStream(filePath);
  const decoder = iconv.decodeStream(ICONV_NAMES[encoding], { stripBOM: true });
  const parser = parseCsv({
    delimiter,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: false,
    max_record_size: MAX_RECORD_BYTES,
  });
  input.on('error', (e) => parser.destroy(e));
  decoder.on('error', (e: Error) => parser.destroy(e));
  input.pipe(decoder).pipe(parser);
  let rowNo = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      rowNo++;
      yield { rowNo, cells: record.map(cleanCell) };
    }
  } catch (error) {
    const e = error as Error & { code?: string; lines?: number };
    if (e.code?.startsWith('CSV_')) {
      throw new FileProblemError(
        fileProblem('FILE_CSV_MALFORMED', { line: e.lines ?? rowNo + 1, reason: e.message }),
      );
    }
    throw error;
  } finally {
    input.destroy();
  }
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** An Excel cell as the text the clerk sees; date cells become YYYY-MM-DD. */
export function excelCellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) {
    // Excel dates carry no timezone; exceljs gives them as UTC midnight of the shown day.
    if (Number.isNaN(value.getTime())) return '';
    return `${value.getUTCFullYear()}-${pad2(value.getUTCMonth() + 1)}-${pad2(value.getUTCDate())}`;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? '是' : '否';
  if (typeof value === 'object') {
    const v = value as {
      richText?: { text: string }[];
      result?: unknown;
      text?: unknown;
      error?: string;
      formula?: string;
    };
    if (Array.isArray(v.richText)) return v.richText.map((r) => r.text).join('');
    if ('result' in v) return excelCellText(v.result);
    if (v.text !== undefined) return excelCellText(v.text);
    if (v.error) return v.error;
  }
  return String(value);
}

async function* xlsxRows(filePath: string): AsyncGenerator<SheetRow> {
  const input = createReadStream(filePath);
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    // Styles tell date cells from numbers.
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  let sheets = 0;
  try {
    for await (const worksheet of workbook) {
      sheets++;
      // The first worksheet only: further sheets (instructions, code lists) are not data.
      for await (const row of worksheet) {
        const values = row.values as unknown[];
        const cells: string[] = [];
        for (let i = 1; i < values.length; i++) cells.push(cleanCell(excelCellText(values[i])));
        yield { rowNo: row.number, cells };
      }
      break;
    }
    if (sheets === 0) {
      throw new FileProblemError(
        fileProblem('FILE_XLSX_UNREADABLE', { reason: 'no worksheet / 没有工作表' }),
      );
    }
  } catch (error) {
    if (error instanceof FileProblemError) throw error;
    throw new FileProblemError(
      fileProblem('FILE_XLSX_UNREADABLE', { reason: (error as Error).message.slice(0, 200) }),
    );
  } finally {
    input.destroy();
  }
}

/** Every row of the file, blank ones included (they keep row numbers as Excel shows them). */
export function readRows(filePath: string, opts: ReadOptions): AsyncGenerator<SheetRow> {
  return opts.format === 'xlsx'
    ? xlsxRows(filePath)
    : csvRows(filePath, opts.encoding ?? 'utf-8', opts.delimiter);
}

export function isBlank(cells: string[]): boolean {
  return cells.every((c) => c.trim() === '');
}

/** What the first look at a file finds: how to read it, its header, its number of data rows. */
export interface FileLayout extends ReadOptions {
  header: HeaderMap;
  dataRows: number;
}

/**
 * Reads the whole file once, without importing anything: the encoding, the header row (a title
 * row or two above it are skipped) and the number of non-blank data rows. Throws FileProblemError
 * for a file that cannot be imported at all, naming the problem.
 */
export async function inspectFile(
  filePath: string,
  format: FileFormat,
  limits: { maxRows: number },
): Promise<FileLayout> {
  if (format === 'xls') throw new FileProblemError(fileProblem('FILE_XLS_OLD'));
  const encoding = format === 'csv' ? await detectEncoding(filePath) : null;
  const delimiter = format === 'csv' && encoding ? await detectDelimiter(filePath, encoding) : ',';
  const opts: ReadOptions = { format, encoding, delimiter };
  let header: HeaderMap | null = null;
  let firstNonBlank: SheetRow | null = null;
  let rowsBeforeHeader = 0;
  let dataRows = 0;
  for await (const row of readRows(filePath, opts)) {
    if (isBlank(row.cells)) continue;
    if (header) {
      dataRows++;
      continue;
    }
    firstNonBlank ??= row;
    // The header is the first row naming at least one known column; rows above it are titles.
    const mapped = mapHeader(row.rowNo, row.cells);
    if (mapped.recognised === 0) {
      if (++rowsBeforeHeader >= MAX_TITLE_ROWS) break;
      continue;
    }
    if (mapped.problem?.kind === 'duplicate') {
      throw new FileProblemError(
        fileProblem('FILE_DUPLICATE_COLUMN', { header: mapped.problem.header, other: mapped.problem.other }),
      );
    }
    if (mapped.problem?.kind === 'missing') {
      const names = mapped.problem.missing.map(describeColumnGroup);
      throw new FileProblemError(
        fileProblem('FILE_MISSING_COLUMNS', {
          columnsZh: names.map((n) => n.zh).join('、'),
          columnsEn: names.map((n) => n.en).join('; '),
          missing: mapped.problem.missing,
        }),
      );
    }
    header = mapped.header;
  }
  if (!firstNonBlank) throw new FileProblemError(fileProblem('FILE_EMPTY'));
  if (!header) {
    const found = firstNonBlank.cells
      .map((c) => c.trim())
      .filter((c) => c !== '')
      .slice(0, 6)
      .map((c) => (c.length > 20 ? `${c.slice(0, 20)}…` : c))
      .join(', ');
    throw new FileProblemError(fileProblem('FILE_NO_HEADER', { row: firstNonBlank.rowNo, found }));
  }
  if (dataRows === 0) throw new FileProblemError(fileProblem('FILE_NO_ROWS'));
  if (dataRows > limits.maxRows) {
    throw new FileProblemError(
      fileProblem('FILE_TOO_MANY_ROWS', { rows: dataRows, maxRows: limits.maxRows }),
    );
  }
  return { ...opts, header, dataRows };
}
