import type { Lang } from '../i18n';

/**
 * The import API's replies, read tolerantly: the batch row may come with snake_case columns
 * (import_batch table) or camelCase fields, and messages either in the caller's language or in both.
 */

export type ImportStatus = 'queued' | 'running' | 'done' | 'failed';

export interface ImportBatch {
  importId: number;
  officeId: number | null;
  officeName: string;
  fileName: string;
  status: ImportStatus;
  totalRows: number;
  processedRows: number;
  importedRows: number;
  unchangedRows: number;
  errorRows: number;
  fileError: string | null;
  createdAt: string | null;
  finishedAt: string | null;
  createdByName: string;
}

export interface ImportRowError {
  key: string;
  rowNo: number;
  column: string;
  code: string;
  message: string;
  raw: unknown;
}

type Raw = Record<string, unknown>;

function pick(raw: Raw, ...keys: string[]): unknown {
  for (const key of keys) if (raw[key] !== undefined && raw[key] !== null) return raw[key];
  return undefined;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0) || 0);
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/** A message that may be a string, `{message}`, `{message_zh, message_en}` or `{'zh-CN', en}`. */
export function messageIn(value: unknown, lang: Lang): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'string') return value;
  if (typeof value !== 'object') return String(value);
  const v = value as Raw;
  const zh = pick(v, 'message_zh', 'messageZh', 'zh-CN', 'zh');
  const en = pick(v, 'message_en', 'messageEn', 'en');
  if (zh !== undefined || en !== undefined) return str(lang === 'en' ? (en ?? zh) : (zh ?? en));
  if (v.messages && typeof v.messages === 'object') return messageIn(v.messages, lang);
  if (v.message !== undefined) return str(v.message);
  return JSON.stringify(value);
}

export function toBatch(raw: Raw, lang: Lang): ImportBatch {
  const status = str(pick(raw, 'status', 'state')) as ImportStatus;
  return {
    importId: num(pick(raw, 'importId', 'import_id', 'id')),
    officeId: (pick(raw, 'officeId', 'office_id') as number | undefined) ?? null,
    officeName: str(pick(raw, 'officeName', 'office_name')),
    fileName: str(pick(raw, 'fileName', 'file_name')),
    status: status || 'queued',
    totalRows: num(pick(raw, 'totalRows', 'total_rows')),
    processedRows: num(pick(raw, 'processedRows', 'processed_rows')),
    importedRows: num(pick(raw, 'importedRows', 'imported_rows')),
    unchangedRows: num(pick(raw, 'unchangedRows', 'unchanged_rows')),
    errorRows: num(pick(raw, 'errorRows', 'error_rows')),
    fileError: messageIn(pick(raw, 'fileError', 'file_error'), lang),
    createdAt: (pick(raw, 'createdAt', 'created_at') as string | undefined) ?? null,
    finishedAt: (pick(raw, 'finishedAt', 'finished_at') as string | undefined) ?? null,
    createdByName: str(pick(raw, 'createdByName', 'created_by_name', 'full_name')),
  };
}

export function toRowError(raw: Raw, lang: Lang, index: number): ImportRowError {
  const rowNo = num(pick(raw, 'rowNo', 'row_no', 'row'));
  const column = str(pick(raw, 'column', 'columnName', 'column_name', 'header'));
  return {
    key: `${rowNo}/${str(pick(raw, 'seq')) || index}/${column}`,
    rowNo,
    column,
    code: str(pick(raw, 'code')),
    message: rowMessage(raw, lang),
    raw: pick(raw, 'raw', 'cells', 'values'),
  };
}

function rowMessage(raw: Raw, lang: Lang): string {
  const zh = pick(raw, 'message_zh', 'messageZh');
  const en = pick(raw, 'message_en', 'messageEn');
  if (zh !== undefined || en !== undefined) return str(lang === 'en' ? (en ?? zh) : (zh ?? en));
  return messageIn(pick(raw, 'messages', 'message'), lang) ?? str(raw.code);
}

/** A list reply may be an array or `{ items, total }`. */
export function itemsOf(reply: unknown): { items: Raw[]; total: number } {
  if (Array.isArray(reply)) return { items: reply as Raw[], total: reply.length };
  const r = (reply ?? {}) as Raw;
  const items = (Array.isArray(r.items) ? r.items : Array.isArray(r.rows) ? r.rows : []) as Raw[];
  return { items, total: num(r.total ?? items.length) };
}

export function isFinished(status: ImportStatus): boolean {
  return status === 'done' || status === 'failed';
}
