import { PassThrough, Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import { COLUMNS, REQUIRED_COLUMNS } from './columns.ts';
import type { FileProblem } from './messages.ts';

/**
 * The error report (every bad row: its number, the columns at fault, the reasons in Chinese and
 * English, then the row as it was in the file, under the file's own headers, so the report can
 * be corrected and imported again) and the import template. Both stream: a report of 100,000
 * bad rows is written page by page.
 */

/** Bad rows read from the database per query while writing a report. */
const REPORT_PAGE_ROWS = 1_000;

export const REPORT_LEAD_COLUMNS = ['行号', '出错列', '错误原因', 'Reason'] as const;

interface ReportRow {
  rowNo: number | '';
  columns: string;
  reasonZh: string;
  reasonEn: string;
  cells: string[];
}

async function* reportRows(
  db: Kysely<DB>,
  importId: number,
  fileError: FileProblem | null,
): AsyncGenerator<ReportRow> {
  if (fileError) {
    yield {
      rowNo: '',
      columns: '',
      reasonZh: fileError.messages['zh-CN'],
      reasonEn: fileError.messages.en,
      cells: [],
    };
  }
  let after = -1;
  for (;;) {
    const page = await sql<{
      row_no: number;
      columns: string[];
      reasons_zh: string;
      reasons_en: string;
      raw: string[] | null;
    }>`
      select row_no,
             array_agg(column_name order by seq) as columns,
             string_agg(message_zh, '；' order by seq) as reasons_zh,
             string_agg(message_en, '; ' order by seq) as reasons_en,
             (array_agg(raw order by seq))[1] as raw
      from import_row_error
      where import_id = ${importId} and row_no > ${after}
      group by row_no
      order by row_no
      limit ${REPORT_PAGE_ROWS}`.execute(db);
    for (const r of page.rows) {
      yield {
        rowNo: r.row_no,
        columns: [...new Set(r.columns.filter((c) => c !== ''))].join('、'),
        reasonZh: r.reasons_zh,
        reasonEn: r.reasons_en,
        cells: Array.isArray(r.raw) ? r.raw.map(String) : [],
      };
    }
    if (page.rows.length < REPORT_PAGE_ROWS) return;
    after = page.rows[page.rows.length - 1]!.row_no;
  }
}

/** A CSV field; a value Excel would run as a formula gets a leading ' (the import drops it again). */
export function csvField(value: string | number): string {
  let text = String(value);
  if (/^[=+\-@]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(values: (string | number)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** UTF-8 with a byte-order mark: Excel on Chinese Windows then opens it without garbling. */
const BOM = '\uFEFF';

export function reportCsv(
  db: Kysely<DB>,
  importId: number,
  headers: string[],
  fileError: FileProblem | null,
): Readable {
  return Readable.from(
    (async function* () {
      yield BOM + csvLine([...REPORT_LEAD_COLUMNS, ...headers]);
      for await (const r of reportRows(db, importId, fileError)) {
        yield csvLine([r.rowNo, r.columns, r.reasonZh, r.reasonEn, ...r.cells]);
      }
    })(),
  );
}

export function reportXlsx(
  db: Kysely<DB>,
  importId: number,
  headers: string[],
  fileError: FileProblem | null,
): Readable {
  const out = new PassThrough();
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  const sheet = workbook.addWorksheet('错误报告');
  (async () => {
    const head = sheet.addRow([...REPORT_LEAD_COLUMNS, ...headers]);
    head.font = { bold: true };
    head.commit();
    for await (const r of reportRows(db, importId, fileError)) {
      // Cells are written as text: codes keep their leading zeros, nothing runs as a formula.
      sheet.addRow([r.rowNo, r.columns, r.reasonZh, r.reasonEn, ...r.cells]).commit();
    }
    sheet.commit();
    await workbook.commit();
  })().catch((error: Error) => out.destroy(error));
  return out;
}

// ------------------------------------------------------------------ template

const requiredKeys = new Set(REQUIRED_COLUMNS.filter((g) => g.length === 1).map((g) => g[0]));

export function templateCsv(): string {
  return BOM + csvLine(COLUMNS.map((c) => c.zh)) + csvLine(COLUMNS.map((c) => c.example));
}

export async function templateXlsx(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('用户导入');
  sheet.columns = COLUMNS.map((c) => ({
    header: c.zh,
    key: c.key,
    width: Math.max(10, c.zh.length * 2 + 4, c.example.length + 2),
    // Text columns keep leading zeros and long digit strings (ID numbers) as typed.
    style: c.text ? { numFmt: '@' } : {},
  }));
  sheet.addRow(Object.fromEntries(COLUMNS.map((c) => [c.key, c.example])));
  const head = sheet.getRow(1);
  head.font = { bold: true };
  for (const c of COLUMNS) {
    if (requiredKeys.has(c.key)) head.getCell(c.key).font = { bold: true, color: { argb: 'FFC00000' } };
  }
  sheet.views = [{ state: 'frozen', ySplit: 1 }];
  const help = workbook.addWorksheet('说明 Notes');
  help.addRow(['只导入第一个工作表；列格式见 docs/import-format.md。Only the first worksheet is imported.']);
  help.addRow([
    '红色列为必填；身份证号与统一社会信用代码至少有一列；地址或小区/楼栋/单元/门牌号至少有一列。',
  ]);
  help.addRow([
    'Red columns are required; id_card_no or credit_code, and address or its parts, must be present.',
  ]);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
