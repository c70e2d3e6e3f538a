import { type Bilingual, formatMessage, messageFor } from '@meterline/domain';

/**
 * Messages of the import's own problems, file-level (FILE_*) and row-level, in both languages.
 * Row problems found by the shared validators use the shared catalogue (domain MESSAGES).
 */
export const IMPORT_MESSAGES = {
  FILE_EMPTY: { 'zh-CN': '文件为空', en: 'The file is empty' },
  FILE_XLS_OLD: {
    'zh-CN': '不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入',
    en: 'Old Excel (.xls) files are not supported; save the file as .xlsx or CSV in Excel and import that',
  },
  FILE_BINARY: {
    'zh-CN': '这不是 CSV 或 Excel（.xlsx）文件',
    en: 'This is not a CSV or Excel (.xlsx) file',
  },
  FILE_UTF16_NO_BOM: {
    'zh-CN': '文件编码错误：像是没有 BOM 的 UTF-16 文本，请另存为 UTF-8 或 GBK 编码的 CSV',
    en: 'Wrong encoding: the file looks like UTF-16 text without a byte-order mark; save it as a UTF-8 or GBK CSV',
  },
  FILE_ENCODING: {
    'zh-CN':
      '文件编码错误：既不是 UTF-8 也不是 GBK 文本（第 {offset} 字节起无法识别），请另存为 UTF-8 或 GBK 编码的 CSV',
    en: 'Wrong encoding: the file is neither UTF-8 nor GBK text (unreadable from byte {offset}); save it as a UTF-8 or GBK CSV',
  },
  FILE_NO_HEADER: {
    'zh-CN':
      '第 {row} 行不是可识别的表头（读到：{found}）。文件可能不是导入模板格式，或编码错误（支持 UTF-8、GBK）',
    en: 'Row {row} is not a header this import knows (found: {found}). The file may not follow the import template, or its encoding is wrong (UTF-8 and GBK are supported)',
  },
  FILE_MISSING_COLUMNS: {
    'zh-CN': '缺少必需的列：{columnsZh}',
    en: 'Required columns are missing: {columnsEn}',
  },
  FILE_DUPLICATE_COLUMN: {
    'zh-CN': '列「{header}」与列「{other}」是同一列，只能出现一次',
    en: 'Columns "{header}" and "{other}" are the same column; it may appear only once',
  },
  FILE_NO_ROWS: { 'zh-CN': '表头下面没有数据行', en: 'There are no data rows below the header' },
  FILE_TOO_MANY_ROWS: {
    'zh-CN': '文件有 {rows} 行数据，超过每个文件 {maxRows} 行的上限，请拆分后导入',
    en: 'The file has {rows} data rows, more than the limit of {maxRows} per file; split it and import the parts',
  },
  FILE_CSV_MALFORMED: {
    'zh-CN': 'CSV 格式错误（第 {line} 行附近）：{reason}',
    en: 'The CSV is malformed (near line {line}): {reason}',
  },
  FILE_XLSX_UNREADABLE: {
    'zh-CN': '无法读取 Excel 文件：{reason}',
    en: 'The Excel file cannot be read: {reason}',
  },
  FILE_MISSING: {
    'zh-CN': '导入文件已不在服务器上，请重新上传',
    en: 'The uploaded file is no longer on the server; upload it again',
  },
  IMPORT_INTERRUPTED: {
    'zh-CN': '导入在第 {row} 行附近多次失败后停止：{reason}',
    en: 'The import stopped after repeated failures near row {row}: {reason}',
  },

  VALUE_NOT_ALLOWED: {
    'zh-CN': '「{value}」不是有效的{columnZh}，可填：{allowedZh}',
    en: '"{value}" is not a valid {column}; use one of: {allowedEn}',
  },
  NUMBER_FORMAT: { 'zh-CN': '「{value}」不是数字', en: '"{value}" is not a number' },
  INTEGER_FORMAT: { 'zh-CN': '「{value}」不是整数', en: '"{value}" is not a whole number' },
  DECIMALS: {
    'zh-CN': '最多 {decimals} 位小数',
    en: 'At most {decimals} decimal places',
  },
  FLOW_RATING_TOO_BIG: {
    'zh-CN': '流量规格不能超过 999999.99 m³/h',
    en: 'A flow rating is at most 999999.99 m³/h',
  },
  METER_FIELDS_WITHOUT_NO: {
    'zh-CN': '填写了表具信息，但没有表号',
    en: 'Meter details are given but no meter number',
  },
  MASTER_WITH_MASTER: {
    'zh-CN': '总表不能再挂在另一块总表下，表号也不能是自己',
    en: 'A master meter cannot sit behind another master meter, nor behind itself',
  },
  MASTER_METER_UNKNOWN_IN_IMPORT: {
    'zh-CN': '总表 {masterMeterNo} 不存在（总表须已在系统中，或在本文件中排在其分表之前）',
    en: 'There is no master meter {masterMeterNo} (it must exist already, or come before its sub-meters in this file)',
  },
  DUPLICATE_ROW: { 'zh-CN': '与第 {row} 行完全相同', en: 'Same as row {row}' },
  DUPLICATE_CUSTOMER_CODE: {
    'zh-CN': '用户编号 {customerCode} 与第 {row} 行重复',
    en: 'Customer code {customerCode} already appears in row {row}',
  },
  DUPLICATE_METER_NO: {
    'zh-CN': '表号 {meterNo} 与第 {row} 行重复',
    en: 'Meter number {meterNo} already appears in row {row}',
  },
  CUSTOMER_CODE_IN_USE: {
    'zh-CN': '用户编号 {customerCode} 已被使用，且已有资料与本行不同（{fieldsZh}）',
    en: 'Customer code {customerCode} is already in use by a customer whose data differs ({fieldsEn})',
  },
  METER_NUMBER_IN_USE: {
    'zh-CN': '表号 {meterNo} 已被用户 {customerCode} 使用',
    en: 'Meter number {meterNo} is already used by customer {customerCode}',
  },
  DB_REJECTED: {
    'zh-CN': '数据库拒绝了这一行：{reason}',
    en: 'The database refused this row: {reason}',
  },
} satisfies Record<string, Bilingual>;

export type ImportMessageCode = keyof typeof IMPORT_MESSAGES;

/** The words for a code in both languages: the import's own, then the shared catalogue. */
export function importMessages(code: string, data: Record<string, unknown> = {}): Bilingual {
  const template = (IMPORT_MESSAGES as Record<string, Bilingual>)[code] ?? messageFor(code);
  if (!template) return { 'zh-CN': code, en: code };
  return { 'zh-CN': formatMessage(template['zh-CN'], data), en: formatMessage(template.en, data) };
}

/** A problem with the whole file: nothing of it is imported. Stored in import_batch.file_error. */
export interface FileProblem {
  code: string;
  data: Record<string, unknown>;
  messages: Bilingual;
}

export function fileProblem(code: ImportMessageCode, data: Record<string, unknown> = {}): FileProblem {
  return { code, data, messages: importMessages(code, data) };
}

/** Thrown while reading a file; the runner records it as the batch's file error. */
export class FileProblemError extends Error {
  constructor(readonly problem: FileProblem) {
    super(problem.messages.en);
    this.name = 'FileProblemError';
  }
}
