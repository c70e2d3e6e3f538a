import { type Bilingual, formatMessage } from '../platform/errors.ts';

/**
 * Bank direct debit files (代扣, DOMAIN.md §5, docs/bank-files.md): the utility sends each bank a
 * debit-request file (one line per customer with a mandate and something owed); the bank answers
 * with a result file saying, line by line, whether it debited the account. Each bank has its own
 * layout — CSV or fixed-width, UTF-8 or GBK — described by a BankFileFormat stored with the bank.
 *
 * Everything here is pure: rendering gives text (the server encodes it in the bank's encoding),
 * parsing takes the bytes as received and reports every problem with its line number.
 */

export const BANK_FILE_KINDS = ['csv', 'fixed'] as const;
export type BankFileKind = (typeof BANK_FILE_KINDS)[number];
export const BANK_FILE_ENCODINGS = ['utf8', 'gbk'] as const;
export type BankFileEncoding = (typeof BANK_FILE_ENCODINGS)[number];

/** The fields a line may carry. Header: bankCode, fileDate, batchNo; trailer: count, totalFen. */
export const BANK_FIELD_NAMES = [
  'recordType',
  'bankCode',
  'fileDate',
  'batchNo',
  'seqNo',
  'accountRef',
  'bankAccountNo',
  'holderName',
  'amountFen',
  'bankTxnRef',
  'resultCode',
  'reason',
  'count',
  'totalFen',
  'filler',
] as const;
export type BankFieldName = (typeof BANK_FIELD_NAMES)[number];

export interface BankFieldSpec {
  name: BankFieldName;
  /** Fixed-width only: the field's width in bytes of the file's encoding (a GBK hanzi is 2). */
  width?: number;
}

export interface BankFileFormat {
  kind: BankFileKind;
  encoding: BankFileEncoding;
  /** CSV only; default ','. */
  delimiter?: string;
  /** 'fen': whole fen (12345); 'yuan': yuan with two decimals (123.45). Applies to amounts and totals. */
  amountUnit: 'fen' | 'yuan';
  /** The first field of every line says what it is. */
  recordTypes: { header: string; detail: string; trailer: string };
  header: BankFieldSpec[];
  /** The lines the utility sends. */
  requestDetail: BankFieldSpec[];
  /** The lines the bank sends back. */
  resultDetail: BankFieldSpec[];
  trailer: BankFieldSpec[];
  /** Result codes that mean "debited OK"; any other code is a failed debit. */
  okCodes: string[];
}

/** Lines in one file, at most: a bank file larger than this is refused, not half-read. */
export const MAX_BANK_FILE_LINES = 200_000;
/** Amounts above this (in fen) are refused as unreadable: 1e12 fen = 10 billion yuan. */
const MAX_AMOUNT_FEN = 1_000_000_000_000;

export const BANK_FILE_MESSAGES = {
  ENCODING_INVALID_UTF8: {
    'zh-CN': '文件不是有效的 UTF-8 编码（第 {byteOffset} 字节附近），请确认银行文件的编码',
    en: 'The file is not valid UTF-8 (near byte {byteOffset}); check the encoding of the bank file',
  },
  ENCODING_INVALID_GBK: {
    'zh-CN': '文件不是有效的 GBK 编码，请确认银行文件的编码',
    en: 'The file is not valid GBK; check the encoding of the bank file',
  },
  ENCODING_LOOKS_UTF8: {
    'zh-CN': '该银行的文件应为 GBK 编码，但此文件是 UTF-8 编码',
    en: 'This bank’s files are GBK, but this file is UTF-8',
  },
  FILE_EMPTY: { 'zh-CN': '文件为空', en: 'The file is empty' },
  TOO_MANY_LINES: {
    'zh-CN': '文件超过 {max} 行，请分批处理',
    en: 'The file has more than {max} lines; split it',
  },
  HEADER_MISSING: {
    'zh-CN': '第 {lineNo} 行应为文件头（记录类型 {recordType}）',
    en: 'Line {lineNo} should be the header (record type {recordType})',
  },
  HEADER_BANK_MISMATCH: {
    'zh-CN': '文件头的银行代码 {found} 与所选银行 {expected} 不符',
    en: 'The header names bank {found}, not the chosen bank {expected}',
  },
  TRAILER_MISSING: {
    'zh-CN': '文件缺少尾记录（记录类型 {recordType}），无法核对笔数和金额',
    en: 'The file has no trailer (record type {recordType}); count and total cannot be checked',
  },
  TRAILER_COUNT_MISMATCH: {
    'zh-CN': '尾记录笔数 {trailerCount} 与明细行数 {lineCount} 不符',
    en: 'The trailer says {trailerCount} lines, the file has {lineCount}',
  },
  TRAILER_TOTAL_MISMATCH: {
    'zh-CN': '尾记录总金额 {trailerYuan} 元与明细合计 {linesYuan} 元不符',
    en: 'The trailer total is {trailerYuan} yuan, the lines add up to {linesYuan} yuan',
  },
  LINE_AFTER_TRAILER: {
    'zh-CN': '第 {lineNo} 行在尾记录之后，已忽略',
    en: 'Line {lineNo} comes after the trailer and was ignored',
  },
  RECORD_TYPE_UNKNOWN: {
    'zh-CN': '第 {lineNo} 行的记录类型 {recordType} 无法识别',
    en: 'Line {lineNo}: unknown record type {recordType}',
  },
  WRONG_WIDTH: {
    'zh-CN': '第 {lineNo} 行长度 {actual} 字节，应为 {expected} 字节',
    en: 'Line {lineNo} is {actual} bytes long, not {expected}',
  },
  WRONG_FIELD_COUNT: {
    'zh-CN': '第 {lineNo} 行有 {actual} 个字段，应为 {expected} 个',
    en: 'Line {lineNo} has {actual} fields, not {expected}',
  },
  FIELD_MISSING: {
    'zh-CN': '第 {lineNo} 行缺少 {field}',
    en: 'Line {lineNo}: {fieldEn} is missing',
  },
  AMOUNT_INVALID: {
    'zh-CN': '第 {lineNo} 行金额 “{value}” 无效',
    en: 'Line {lineNo}: the amount “{value}” is not valid',
  },
  COUNT_INVALID: {
    'zh-CN': '第 {lineNo} 行笔数 “{value}” 无效',
    en: 'Line {lineNo}: the count “{value}” is not valid',
  },
  DUPLICATE_LINE: {
    'zh-CN': '第 {lineNo} 行与第 {firstLineNo} 行重复（银行流水号 {bankTxnRef}），只处理一次',
    en: 'Line {lineNo} repeats line {firstLineNo} (bank reference {bankTxnRef}); it is processed once',
  },
} as const satisfies Record<string, Bilingual>;

export type BankFileProblemCode = keyof typeof BANK_FILE_MESSAGES;

export interface BankFileProblem {
  /** 0 for the file as a whole. */
  lineNo: number;
  code: BankFileProblemCode;
  data: Record<string, unknown>;
  messages: Bilingual;
}

function problem(
  lineNo: number,
  code: BankFileProblemCode,
  data: Record<string, unknown> = {},
): BankFileProblem {
  const m = BANK_FILE_MESSAGES[code];
  const all = { lineNo, ...data };
  return {
    lineNo,
    code,
    data: all,
    messages: { 'zh-CN': formatMessage(m['zh-CN'], all), en: formatMessage(m.en, all) },
  };
}

const FIELD_LABELS: Record<BankFieldName, Bilingual> = {
  recordType: { 'zh-CN': '记录类型', en: 'the record type' },
  bankCode: { 'zh-CN': '银行代码', en: 'the bank code' },
  fileDate: { 'zh-CN': '文件日期', en: 'the file date' },
  batchNo: { 'zh-CN': '批次号', en: 'the batch number' },
  seqNo: { 'zh-CN': '序号', en: 'the sequence number' },
  accountRef: { 'zh-CN': '用户编号', en: 'the customer number' },
  bankAccountNo: { 'zh-CN': '银行账号', en: 'the bank account number' },
  holderName: { 'zh-CN': '户名', en: 'the account holder' },
  amountFen: { 'zh-CN': '金额', en: 'the amount' },
  bankTxnRef: { 'zh-CN': '银行流水号', en: 'the bank reference' },
  resultCode: { 'zh-CN': '扣款结果', en: 'the result code' },
  reason: { 'zh-CN': '失败原因', en: 'the reason' },
  count: { 'zh-CN': '总笔数', en: 'the count' },
  totalFen: { 'zh-CN': '总金额', en: 'the total' },
  filler: { 'zh-CN': '保留字段', en: 'the filler' },
};

// ------------------------------------------------------------------ widths and encodings

/** Bytes one character takes in the encoding (GBK: ASCII 1, a hanzi 2; outside the BMP 4 in GB18030). */
function charBytes(ch: string, encoding: BankFileEncoding): number {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x80) return 1;
  if (encoding === 'gbk') return cp > 0xffff ? 4 : 2;
  return cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** The length of a text in bytes of the encoding. */
export function byteWidth(text: string, encoding: BankFileEncoding): number {
  let n = 0;
  for (const ch of text) n += charBytes(ch, encoding);
  return n;
}

/** Cuts a text to at most `width` bytes without splitting a character. */
function cutToWidth(text: string, width: number, encoding: BankFileEncoding): string {
  let out = '';
  let n = 0;
  for (const ch of text) {
    const w = charBytes(ch, encoding);
    if (n + w > width) break;
    out += ch;
    n += w;
  }
  return out;
}

/** Splits a fixed-width line into its fields by byte widths; null when the line is not exactly as wide. */
function sliceFixed(line: string, fields: BankFieldSpec[], encoding: BankFileEncoding): string[] | null {
  const chars = [...line];
  const out: string[] = [];
  let i = 0;
  for (const f of fields) {
    const width = f.width ?? 0;
    let n = 0;
    let text = '';
    while (n < width && i < chars.length) {
      const ch = chars[i]!;
      n += charBytes(ch, encoding);
      text += ch;
      i += 1;
    }
    if (n !== width) return null; // ran out, or a wide character straddles the field boundary
    out.push(text.trim());
  }
  return i === chars.length ? out : null;
}

const lineWidth = (fields: BankFieldSpec[]) => fields.reduce((s, f) => s + (f.width ?? 0), 0);

// ------------------------------------------------------------------ amounts

const NUMERIC: ReadonlySet<BankFieldName> = new Set(['amountFen', 'totalFen', 'count', 'seqNo']);

function amountText(amountFen: number, unit: 'fen' | 'yuan'): string {
  if (unit === 'fen') return String(amountFen);
  const sign = amountFen < 0 ? '-' : '';
  const abs = Math.abs(amountFen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Reads an amount as the format writes it; null when it is not one (negative amounts are refused). */
export function parseAmount(text: string, unit: 'fen' | 'yuan'): number | null {
  const s = text.trim();
  if (unit === 'fen') {
    if (!/^\d{1,15}$/.test(s)) return null;
    const n = Number(s);
    return n <= MAX_AMOUNT_FEN ? n : null;
  }
  const m = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  const n = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return n <= MAX_AMOUNT_FEN ? n : null;
}

const yuan = (fen: number) => amountText(fen, 'yuan');

// ------------------------------------------------------------------ rendering

export interface DebitRequestRow {
  accountRef: string;
  bankAccountNo: string;
  holderName: string;
  amountFen: number;
}

export interface BankFileHeader {
  bankCode: string;
  /** YYYYMMDD. */
  fileDate: string;
  batchNo: string;
}

export interface BankResultRow extends DebitRequestRow {
  bankTxnRef: string;
  resultCode: string;
  reason: string;
}

type Values = Partial<Record<BankFieldName, string | number>>;

function csvField(value: string, delimiter: string): string {
  return value.includes(delimiter) || value.includes('"') || /[\r\n]/.test(value)
    ? `"${value.replace(/"/g, '""')}"`
    : value;
}

function renderLine(format: BankFileFormat, fields: BankFieldSpec[], values: Values): string {
  const texts = fields.map((f) => {
    const v = values[f.name];
    if (f.name === 'amountFen' || f.name === 'totalFen') return amountText(Number(v ?? 0), format.amountUnit);
    return String(v ?? '').replace(/[\r\n]/g, ' ');
  });
  if (format.kind === 'csv') {
    const d = format.delimiter ?? ',';
    return texts.map((x) => csvField(x, d)).join(d);
  }
  return fields
    .map((f, i) => {
      const width = f.width ?? 0;
      const text = texts[i]!;
      if (NUMERIC.has(f.name)) {
        if (text.length > width) throw new Error(`${f.name} ${text} is wider than ${width}`);
        return text.padStart(width, '0');
      }
      // Names may be cut (the bank matches on the account number); a number cut would be wrong.
      if (byteWidth(text, format.encoding) > width && f.name !== 'holderName' && f.name !== 'reason')
        throw new Error(`${f.name} ${text} is wider than ${width}`);
      const cut = cutToWidth(text, width, format.encoding);
      return cut + ' '.repeat(width - byteWidth(cut, format.encoding));
    })
    .join('');
}

function renderFile<R extends DebitRequestRow>(
  format: BankFileFormat,
  header: BankFileHeader,
  rows: readonly R[],
  detail: BankFieldSpec[],
): string {
  if (rows.length > MAX_BANK_FILE_LINES)
    throw new Error(`at most ${MAX_BANK_FILE_LINES} lines in a bank file`);
  const totalFen = rows.reduce((s, r) => s + r.amountFen, 0);
  const lines = [
    renderLine(format, format.header, { recordType: format.recordTypes.header, ...header }),
    ...rows.map((r, i) =>
      renderLine(format, detail, { recordType: format.recordTypes.detail, seqNo: i + 1, ...r }),
    ),
    renderLine(format, format.trailer, {
      recordType: format.recordTypes.trailer,
      ...header,
      count: rows.length,
      totalFen,
    }),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * The debit-request file for a bank (代扣请求文件): a header, one detail line per customer, and a
 * trailer with the count of lines and their total. Text; the caller encodes it in format.encoding.
 */
export function renderDebitFile(
  format: BankFileFormat,
  header: BankFileHeader,
  rows: readonly DebitRequestRow[],
): string {
  for (const r of rows)
    if (!Number.isSafeInteger(r.amountFen) || r.amountFen <= 0)
      throw new Error(`debit amount must be positive whole fen: ${r.amountFen}`);
  return renderFile(format, header, rows, format.requestDetail);
}

/** A result file as the bank would send it back: for tests and the sandbox bank. */
export function renderResultFile(
  format: BankFileFormat,
  header: BankFileHeader,
  rows: readonly BankResultRow[],
): string {
  return renderFile(format, header, rows, format.resultDetail);
}

// ------------------------------------------------------------------ parsing

/** One detail line of a result file that could be read. */
export interface ParsedResultRow extends BankResultRow {
  lineNo: number;
  /** The bank debited the account (resultCode is one of format.okCodes). */
  debited: boolean;
  /** The same bank reference appeared earlier in the file: this line must not be posted. */
  duplicateOfLine: number | null;
}

export interface ParsedResultFile {
  /** A problem with the whole file (encoding, empty, too long): nothing in it can be trusted. */
  fileError: BankFileProblem | null;
  header: BankFileHeader | null;
  trailer: { count: number; totalFen: number } | null;
  /** Detail lines, in file order (duplicates included, flagged). */
  rows: ParsedResultRow[];
  /** Detail lines in the file, readable or not. */
  detailLines: number;
  /** Every problem, in line order; file-level ones first. */
  problems: BankFileProblem[];
}

/** Decodes the bytes strictly in the bank's encoding; a problem instead of guessing at bad bytes. */
export function decodeBankFile(
  bytes: Uint8Array,
  encoding: BankFileEncoding,
): { text: string } | { error: BankFileProblem } {
  let body = bytes;
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
  const hasHighBytes = body.some((b) => b >= 0x80);
  if (encoding === 'utf8') {
    try {
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(body) };
    } catch {
      let ok = 0;
      // Find roughly where it breaks, for the message.
      for (let step = 1024; ok < body.length; ok += step) {
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(0, ok + step), { stream: true });
        } catch {
          break;
        }
      }
      return { error: problem(0, 'ENCODING_INVALID_UTF8', { byteOffset: ok }) };
    }
  }
  if (hasHighBytes) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(body);
      // Valid UTF-8 with Chinese text is almost never valid GBK meant as such: the bank sent UTF-8.
      return { error: problem(0, 'ENCODING_LOOKS_UTF8') };
    } catch {
      // Not UTF-8: read it as GBK below.
    }
  }
  try {
    return { text: new TextDecoder('gbk', { fatal: true }).decode(body) };
  } catch {
    return { error: problem(0, 'ENCODING_INVALID_GBK') };
  }
}

/** Splits one CSV line (quotes as Excel writes them; no line breaks inside fields). */
function splitCsv(line: string, delimiter: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur.trim() === '') {
      quoted = true;
      cur = '';
    } else if (ch === delimiter) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** The record type of a line: the first field (CSV) or the first `width` bytes (fixed). */
function recordTypeOf(format: BankFileFormat, line: string): string {
  if (format.kind === 'csv') return splitCsv(line, format.delimiter ?? ',')[0] ?? '';
  const width = format.header[0]?.width ?? 1;
  return cutToWidth(line, width, format.encoding).trim();
}

function fieldsOf(
  format: BankFileFormat,
  line: string,
  lineNo: number,
  specs: BankFieldSpec[],
): { values: Map<BankFieldName, string> } | { problem: BankFileProblem } {
  let texts: string[] | null;
  if (format.kind === 'csv') {
    texts = splitCsv(line, format.delimiter ?? ',');
    if (texts.length !== specs.length)
      return {
        problem: problem(lineNo, 'WRONG_FIELD_COUNT', { actual: texts.length, expected: specs.length }),
      };
  } else {
    texts = sliceFixed(line, specs, format.encoding);
    if (!texts)
      return {
        problem: problem(lineNo, 'WRONG_WIDTH', {
          actual: byteWidth(line, format.encoding),
          expected: lineWidth(specs),
        }),
      };
  }
  const values = new Map<BankFieldName, string>();
  for (const [i, s] of specs.entries()) values.set(s.name, texts[i]!);
  return { values };
}

const missing = (lineNo: number, field: BankFieldName) =>
  problem(lineNo, 'FIELD_MISSING', { field: FIELD_LABELS[field]['zh-CN'], fieldEn: FIELD_LABELS[field].en });

/**
 * Reads a bank's result file (代扣结果文件): the encoding is checked first (a file that does not
 * decode is refused whole); then each line — header, details, trailer — is validated on its own,
 * so one bad line never hides the good ones. The trailer's count and total are checked against
 * the lines; a repeated bank reference is flagged so it is processed once.
 */
export function parseResultFile(
  format: BankFileFormat,
  bytes: Uint8Array,
  expectedBankCode?: string,
): ParsedResultFile {
  const result: ParsedResultFile = {
    fileError: null,
    header: null,
    trailer: null,
    rows: [],
    detailLines: 0,
    problems: [],
  };
  const refuse = (p: BankFileProblem) => {
    result.fileError = p;
    result.problems.push(p);
    return result;
  };
  const decoded = decodeBankFile(bytes, format.encoding);
  if ('error' in decoded) return refuse(decoded.error);
  const lines = decoded.text.split(/\r?\n/);
  while (lines.length && lines.at(-1)!.trim() === '') lines.pop();
  if (lines.length === 0) return refuse(problem(0, 'FILE_EMPTY'));
  if (lines.length > MAX_BANK_FILE_LINES + 2)
    return refuse(problem(0, 'TOO_MANY_LINES', { max: MAX_BANK_FILE_LINES }));

  const types = format.recordTypes;
  const lineProblems: BankFileProblem[] = [];
  const firstLineOfRef = new Map<string, number>();
  let linesTotalFen = 0;
  let trailerLineNo = 0;

  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    // Fixed-width lines keep their spaces: the padding is part of the width.
    const line = format.kind === 'csv' ? raw.trim() : raw;
    if (line.trim() === '') return;
    const type = recordTypeOf(format, line);
    if (trailerLineNo) {
      lineProblems.push(problem(lineNo, 'LINE_AFTER_TRAILER'));
      return;
    }
    if (lineNo === 1) {
      if (type !== types.header) {
        lineProblems.push(problem(lineNo, 'HEADER_MISSING', { recordType: types.header }));
      } else {
        const f = fieldsOf(format, line, lineNo, format.header);
        if ('problem' in f) lineProblems.push(f.problem);
        else {
          result.header = {
            bankCode: f.values.get('bankCode') ?? '',
            fileDate: f.values.get('fileDate') ?? '',
            batchNo: f.values.get('batchNo') ?? '',
          };
          if (expectedBankCode && result.header.bankCode && result.header.bankCode !== expectedBankCode)
            lineProblems.push(
              problem(lineNo, 'HEADER_BANK_MISMATCH', {
                found: result.header.bankCode,
                expected: expectedBankCode,
              }),
            );
        }
        return;
      }
    }
    if (type === types.trailer) {
      trailerLineNo = lineNo;
      const f = fieldsOf(format, line, lineNo, format.trailer);
      if ('problem' in f) {
        lineProblems.push(f.problem);
        return;
      }
      const countText = f.values.get('count') ?? '';
      const totalText = f.values.get('totalFen') ?? '';
      const count = /^\d{1,9}$/.test(countText) ? Number(countText) : null;
      const totalFen = parseAmount(totalText, format.amountUnit);
      if (count === null) lineProblems.push(problem(lineNo, 'COUNT_INVALID', { value: countText }));
      if (totalFen === null) lineProblems.push(problem(lineNo, 'AMOUNT_INVALID', { value: totalText }));
      if (count !== null && totalFen !== null) result.trailer = { count, totalFen };
      return;
    }
    if (type !== types.detail) {
      lineProblems.push(problem(lineNo, 'RECORD_TYPE_UNKNOWN', { recordType: type }));
      return;
    }
    result.detailLines += 1;
    const f = fieldsOf(format, line, lineNo, format.resultDetail);
    if ('problem' in f) {
      lineProblems.push(f.problem);
      return;
    }
    const v = f.values;
    const amountTextValue = v.get('amountFen') ?? '';
    const amountFen = parseAmount(amountTextValue, format.amountUnit);
    if (amountFen !== null) linesTotalFen += amountFen;
    const bad: BankFileProblem[] = [];
    for (const name of ['accountRef', 'bankTxnRef', 'resultCode'] as const)
      if (!v.get(name)) bad.push(missing(lineNo, name));
    if (!amountTextValue) bad.push(missing(lineNo, 'amountFen'));
    else if (amountFen === null || amountFen === 0)
      bad.push(problem(lineNo, 'AMOUNT_INVALID', { value: amountTextValue }));
    if (bad.length) {
      lineProblems.push(...bad);
      return;
    }
    const bankTxnRef = v.get('bankTxnRef')!;
    const first = firstLineOfRef.get(bankTxnRef) ?? null;
    if (first !== null)
      lineProblems.push(problem(lineNo, 'DUPLICATE_LINE', { firstLineNo: first, bankTxnRef }));
    else firstLineOfRef.set(bankTxnRef, lineNo);
    const resultCode = v.get('resultCode')!;
    result.rows.push({
      lineNo,
      accountRef: v.get('accountRef')!,
      bankAccountNo: v.get('bankAccountNo') ?? '',
      holderName: v.get('holderName') ?? '',
      amountFen: amountFen!,
      bankTxnRef,
      resultCode,
      reason: v.get('reason') ?? '',
      debited: format.okCodes.includes(resultCode),
      duplicateOfLine: first,
    });
  });

  const fileProblems: BankFileProblem[] = [];
  if (!trailerLineNo) fileProblems.push(problem(0, 'TRAILER_MISSING', { recordType: types.trailer }));
  else if (result.trailer) {
    if (result.trailer.count !== result.detailLines)
      fileProblems.push(
        problem(trailerLineNo, 'TRAILER_COUNT_MISMATCH', {
          trailerCount: result.trailer.count,
          lineCount: result.detailLines,
        }),
      );
    if (result.trailer.totalFen !== linesTotalFen)
      fileProblems.push(
        problem(trailerLineNo, 'TRAILER_TOTAL_MISMATCH', {
          trailerYuan: yuan(result.trailer.totalFen),
          linesYuan: yuan(linesTotalFen),
          trailerFen: result.trailer.totalFen,
          linesFen: linesTotalFen,
        }),
      );
  }
  result.problems = [...fileProblems, ...lineProblems].sort((a, b) => a.lineNo - b.lineNo);
  return result;
}

// ------------------------------------------------------------------ configuration

/** Problems with a bank's format configuration (an admin edits it as data), in English for the log. */
export function bankFormatProblems(format: BankFileFormat): string[] {
  const out: string[] = [];
  if (!BANK_FILE_KINDS.includes(format.kind)) out.push(`kind must be one of ${BANK_FILE_KINDS.join(', ')}`);
  if (!BANK_FILE_ENCODINGS.includes(format.encoding))
    out.push(`encoding must be one of ${BANK_FILE_ENCODINGS.join(', ')}`);
  const parts = {
    header: format.header,
    requestDetail: format.requestDetail,
    resultDetail: format.resultDetail,
    trailer: format.trailer,
  };
  for (const [part, fields] of Object.entries(parts)) {
    if (!Array.isArray(fields) || fields.length === 0) {
      out.push(`${part} has no fields`);
      continue;
    }
    if (fields[0]!.name !== 'recordType') out.push(`${part} must start with recordType`);
    for (const f of fields) {
      if (!BANK_FIELD_NAMES.includes(f.name)) out.push(`${part}: unknown field ${f.name}`);
      if (format.kind === 'fixed' && !(Number.isInteger(f.width) && f.width! > 0))
        out.push(`${part}.${f.name} needs a positive width`);
    }
    if (format.kind === 'fixed' && fields[0]!.width !== format.header[0]?.width)
      out.push(`${part}: the recordType width must be the same on every line`);
  }
  for (const name of ['accountRef', 'amountFen', 'bankTxnRef', 'resultCode'] as const)
    if (!format.resultDetail?.some((f) => f.name === name)) out.push(`resultDetail needs ${name}`);
  for (const name of ['accountRef', 'bankAccountNo', 'amountFen'] as const)
    if (!format.requestDetail?.some((f) => f.name === name)) out.push(`requestDetail needs ${name}`);
  for (const name of ['count', 'totalFen'] as const)
    if (!format.trailer?.some((f) => f.name === name)) out.push(`trailer needs ${name}`);
  if (!format.okCodes?.length) out.push('okCodes must name at least one code');
  const t = format.recordTypes;
  if (!t || new Set([t.header, t.detail, t.trailer]).size !== 3)
    out.push('recordTypes must be three different codes');
  return out;
}

/**
 * The two demo banks' layouts (migration 0013 seeds the same): ICBC sends GBK fixed-width files
 * with amounts in fen, CCB UTF-8 CSV with amounts in yuan.
 */
export const EXAMPLE_BANK_FORMATS: Record<'ICBC' | 'CCB', BankFileFormat> = {
  ICBC: {
    kind: 'fixed',
    encoding: 'gbk',
    amountUnit: 'fen',
    recordTypes: { header: 'H', detail: 'D', trailer: 'T' },
    header: [
      { name: 'recordType', width: 1 },
      { name: 'bankCode', width: 4 },
      { name: 'fileDate', width: 8 },
      { name: 'batchNo', width: 10 },
    ],
    requestDetail: [
      { name: 'recordType', width: 1 },
      { name: 'seqNo', width: 6 },
      { name: 'accountRef', width: 16 },
      { name: 'bankAccountNo', width: 24 },
      { name: 'holderName', width: 20 },
      { name: 'amountFen', width: 12 },
    ],
    resultDetail: [
      { name: 'recordType', width: 1 },
      { name: 'seqNo', width: 6 },
      { name: 'accountRef', width: 16 },
      { name: 'bankAccountNo', width: 24 },
      { name: 'holderName', width: 20 },
      { name: 'amountFen', width: 12 },
      { name: 'bankTxnRef', width: 20 },
      { name: 'resultCode', width: 4 },
      { name: 'reason', width: 30 },
    ],
    trailer: [
      { name: 'recordType', width: 1 },
      { name: 'count', width: 8 },
      { name: 'totalFen', width: 15 },
    ],
    okCodes: ['0000'],
  },
  CCB: {
    kind: 'csv',
    encoding: 'utf8',
    delimiter: ',',
    amountUnit: 'yuan',
    recordTypes: { header: 'H', detail: 'D', trailer: 'T' },
    header: [{ name: 'recordType' }, { name: 'bankCode' }, { name: 'fileDate' }, { name: 'batchNo' }],
    requestDetail: [
      { name: 'recordType' },
      { name: 'seqNo' },
      { name: 'accountRef' },
      { name: 'bankAccountNo' },
      { name: 'holderName' },
      { name: 'amountFen' },
    ],
    resultDetail: [
      { name: 'recordType' },
      { name: 'seqNo' },
      { name: 'accountRef' },
      { name: 'bankAccountNo' },
      { name: 'holderName' },
      { name: 'amountFen' },
      { name: 'bankTxnRef' },
      { name: 'resultCode' },
      { name: 'reason' },
    ],
    trailer: [{ name: 'recordType' }, { name: 'count' }, { name: 'totalFen' }],
    okCodes: ['0000', '00'],
  },
};
