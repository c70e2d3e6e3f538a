import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columnForHeader, mapHeader } from './columns.ts';
import { creditCode, HEADER_ZH, idCard, personRow, toMatrix } from './fixtures/rows.ts';
import { FileProblemError } from './messages.ts';
import { detectEncoding, excelCellText, inspectFile } from './parse.ts';
import { checkRow, normaliseDate, type RowRules, rowFacts, usageTypeIndex } from './validate.ts';

const usageTypes = usageTypeIndex([
  { code: 'W_RES', utility: 'water', active: true, name_zh: '居民生活用水', name_en: 'Residential water' },
  { code: 'G_RES', utility: 'gas', active: true, name_zh: '居民用气', name_en: 'Residential gas' },
  { code: 'W_OLD', utility: 'water', active: false, name_zh: '旧性质', name_en: 'Old' },
]);

function rulesFor(header: readonly string[]): RowRules {
  return { officeId: 1, header: mapHeader(1, [...header]).header, usageTypes, icCardAboveFloor: 8 };
}

describe('headers', () => {
  it('match in Chinese, by alias and in English, ignoring case, spaces, markers and units', () => {
    expect(columnForHeader('用户编号')).toBe('customer_code');
    expect(columnForHeader('户号')).toBe('customer_code');
    expect(columnForHeader('Customer Code')).toBe('customer_code');
    expect(columnForHeader('customerCode')).toBe('customer_code');
    expect(columnForHeader('*用户名称')).toBe('name');
    expect(columnForHeader('口径(DN)')).toBe('caliber_dn');
    expect(columnForHeader('初始读数（m³）')).toBe('initial_index');
    expect(columnForHeader('身份证号码')).toBe('id_card_no');
    expect(columnForHeader('行号')).toBeUndefined();
  });

  it('names the required columns a header lacks, groups as alternatives', () => {
    const { problem } = mapHeader(1, ['用户编号', '用户名称', '用水性质']);
    expect(problem).toEqual({
      kind: 'missing',
      missing: [
        ['phone'],
        ['id_card_no', 'credit_code'],
        ['address', 'district', 'community', 'building', 'unit', 'door'],
      ],
    });
  });

  it('refuses the same column twice under two names', () => {
    const { problem } = mapHeader(1, ['用户名称', '户名']);
    expect(problem).toEqual({ kind: 'duplicate', header: '户名', other: '用户名称' });
  });
});

describe('cell values', () => {
  it('reads dates as clerks and Excel write them', () => {
    expect(normaliseDate('2023-5-6')).toBe('2023-05-06');
    expect(normaliseDate('2023/5/6')).toBe('2023-05-06');
    expect(normaliseDate('2023.05.06')).toBe('2023-05-06');
    expect(normaliseDate('2023年5月6日')).toBe('2023-05-06');
    expect(normaliseDate('20230506')).toBe('2023-05-06');
    expect(normaliseDate('2023/5/6 0:00')).toBe('2023-05-06');
    expect(normaliseDate('２０２３-０５-０６')).toBe('2023-05-06');
    expect(normaliseDate('6/5/2023')).toBe('6/5/2023');
  });

  it('turns Excel cells into the text a clerk sees', () => {
    expect(excelCellText(new Date(Date.UTC(2023, 4, 6)))).toBe('2023-05-06');
    expect(excelCellText(13800138000)).toBe('13800138000');
    expect(excelCellText({ richText: [{ text: '幸福' }, { text: '小区' }] })).toBe('幸福小区');
    expect(excelCellText({ formula: 'A1', result: 15 })).toBe('15');
    expect(excelCellText({ text: '链接', hyperlink: 'http://x' })).toBe('链接');
    expect(excelCellText(null)).toBe('');
  });
});

describe('rows', () => {
  const rules = rulesFor(HEADER_ZH);
  const check = (overrides: Parameters<typeof personRow>[1]) =>
    checkRow(rules, 2, toMatrix([personRow(1, overrides)])[1]!);

  it('accepts a good row as the body POST /api/customers would receive', () => {
    const row = check({});
    expect(row.issues).toEqual([]);
    expect(row.valid!.body).toMatchObject({
      officeId: 1,
      customerCode: 'T000001',
      kind: 'person',
      idCardNo: idCard(1),
      contacts: [{ phone: '13900000001', isPrimary: true }],
      address: { community: '幸福小区', unit: '2', floor: 3 },
      servicePoint: { usageTypeCode: 'W_RES' },
      meter: { meterNo: 'WT00000001', caliberDn: 15, mounting: 'wall', role: 'settlement', icCard: false },
      connectedOn: '2023-05-06',
    });
    expect(row.keys).toMatchObject({ customerCode: 'T000001', meterNo: 'WT00000001' });
  });

  it('reads Chinese labels, usage type names and states the create API does not open', () => {
    const row = check({
      用水性质: '居民生活用水',
      用户状态: '报停',
      安装方式: '表井',
      表类型: '考核表',
      IC卡表: '是',
    });
    expect(row.issues).toEqual([]);
    expect(row.valid!.state).toBe('suspended');
    expect(row.valid!.body.meter).toMatchObject({ mounting: 'well', role: 'assessment', icCard: true });
    expect(rowFacts(row.valid!).state).toBe('suspended');
  });

  it('infers the kind from the identity when the kind is blank', () => {
    const row = check({ 用户类型: '', 身份证号: '', 统一社会信用代码: creditCode(1) });
    expect(row.valid!.body.kind).toBe('organisation');
  });

  it('reports each problem against the column as the file heads it', () => {
    const row = check({ 口径: 'DN17', 流量规格: '2.555', 楼层: '三楼', 初始读数: 'abc', 用水性质: '旧性质' });
    expect(row.valid).toBeNull();
    expect(row.issues.map((i) => [i.column, i.code])).toEqual([
      ['用水性质', 'USAGE_TYPE_UNKNOWN'],
      ['楼层', 'INTEGER_FORMAT'],
      ['流量规格', 'DECIMALS'],
      ['初始读数', 'NUMBER_FORMAT'],
      ['口径', 'CALIBER_UNKNOWN'],
    ]);
  });

  it('refuses a usage type of another utility, and meter details without a meter number', () => {
    expect(check({ 用水性质: 'G_RES' }).issues[0]).toMatchObject({
      column: '用水性质',
      code: 'USAGE_TYPE_UTILITY',
    });
    expect(check({ 表号: '' }).issues[0]).toMatchObject({ column: '表号', code: 'METER_FIELDS_WITHOUT_NO' });
    expect(
      check({ 表号: '', 口径: '', 厂家: '', 型号: '', 安装日期: '', 铅封号: '', 安装方式: '', 表类型: '' })
        .issues,
    ).toEqual([]);
  });

  it('splits a single full-address column with parseAddress', () => {
    const header = ['用户名称', '身份证号', '联系电话', '地址', '用水性质'];
    const row = checkRow(rulesFor(header), 2, [
      '王五',
      idCard(5),
      '13900000005',
      '金水区锦绣华府12栋3单元1201室',
      'W_RES',
    ]);
    expect(row.issues).toEqual([]);
    expect(row.valid!.body.address).toMatchObject({
      district: '金水区',
      community: '锦绣华府',
      building: '12',
      unit: '3',
      door: '1201',
    });
    const empty = checkRow(rulesFor(header), 3, ['王五', idCard(5), '13900000005', '', 'W_RES']);
    expect(empty.issues[0]).toMatchObject({ column: '地址', code: 'REQUIRED' });
  });
});

describe('files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meterline-import-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = async (name: string, content: Buffer | string) => {
    const p = path.join(dir, name);
    await writeFile(p, content);
    return p;
  };
  const problemOf = async (p: Promise<unknown>) => {
    const error = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FileProblemError);
    return (error as FileProblemError).problem;
  };

  it('tells UTF-8 from GBK and reads byte-order marks', async () => {
    const text = '用户名称,联系电话\r\n张三,13800138000\r\n';
    expect(await detectEncoding(await file('u.csv', text))).toBe('utf-8');
    expect(await detectEncoding(await file('b.csv', `\uFEFF${text}`))).toBe('utf-8');
    expect(await detectEncoding(await file('g.csv', iconv.encode(text, 'gbk')))).toBe('gbk');
    expect(await detectEncoding(await file('w.csv', iconv.encode(text, 'utf-16le', { addBOM: true })))).toBe(
      'utf-16le',
    );
    expect((await problemOf(detectEncoding(await file('e.csv', '')))).code).toBe('FILE_EMPTY');
  });

  it('finds the header below title rows, counts data rows, skips blank ones', async () => {
    const csv = `用户资料\r\n\r\n${HEADER_ZH.join(',')}\r\n${toMatrix([personRow(1), personRow(2)])
      .slice(1)
      .map((r) => r.join(','))
      .join('\r\n\r\n')}\r\n,,,\r\n`;
    const layout = await inspectFile(await file('t.csv', csv), 'csv', { maxRows: 10 });
    expect(layout).toMatchObject({ format: 'csv', encoding: 'utf-8', delimiter: ',', dataRows: 2 });
    expect(layout.header.rowNo).toBe(3);
  });

  it('names a malformed CSV and a file with no header it knows', async () => {
    const broken = `${HEADER_ZH.join(',')}\r\nT1,"unclosed\r\n`;
    expect((await problemOf(inspectFile(await file('m.csv', broken), 'csv', { maxRows: 10 }))).code).toBe(
      'FILE_CSV_MALFORMED',
    );
    const other = await problemOf(
      inspectFile(await file('o.csv', 'a,b,c\r\n1,2,3\r\n'), 'csv', { maxRows: 10 }),
    );
    expect(other).toMatchObject({ code: 'FILE_NO_HEADER', data: { row: 1, found: 'a, b, c' } });
  });

  it('names a workbook it cannot read', async () => {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('a').addRow(['用户名称']);
    const good = Buffer.from(await wb.xlsx.writeBuffer());
    const truncated = await file('c.xlsx', good.subarray(0, 200));
    expect((await problemOf(inspectFile(truncated, 'xlsx', { maxRows: 10 }))).code).toBe(
      'FILE_XLSX_UNREADABLE',
    );
  });
});
