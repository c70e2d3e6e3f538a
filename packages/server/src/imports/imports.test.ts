import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshSearchKeys } from '../customers/repository.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { multipart } from '../testing/multipart.ts';
import { badIdCard, creditCode, idCard, personRow, type Row, toCsv } from './fixtures/rows.ts';
import { ImportRunner } from './runner.ts';

let t: TestApp;
let office1: number;
let office2: number;

beforeAll(async () => {
  t = await createTestApp();
  const offices = await t.db.selectFrom('office').select(['office_id', 'code']).execute();
  office1 = offices.find((o) => o.code === '0101')!.office_id;
  office2 = offices.find((o) => o.code === '0102')!.office_id;
});

afterAll(async () => {
  expect(t.built.unaudited).toEqual([]);
  await t.close();
});

const CSV_TYPE = 'text/csv';
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

async function upload(
  content: Buffer | string,
  name = 'customers.csv',
  opts: { user?: string; officeId?: number; type?: string } = {},
) {
  const body = multipart({}, { name, type: opts.type ?? CSV_TYPE, content });
  return t.as(opts.user ?? 'manager')({
    method: 'POST',
    url: `/api/imports?officeId=${opts.officeId ?? office1}`,
    ...body,
  });
}

/** Polls the batch until the runner has finished it. */
async function finished(importId: number, user = 'manager') {
  for (let i = 0; i < 600; i++) {
    const res = await t.as(user)({ method: 'GET', url: `/api/imports/${importId}` });
    expect(res.statusCode, res.body).toBe(200);
    const batch = res.json();
    if (batch.status === 'done' || batch.status === 'failed') return batch;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`import ${importId} did not finish`);
}

async function importFile(content: Buffer | string, name = 'customers.csv', type = CSV_TYPE) {
  const res = await upload(content, name, { type });
  expect(res.statusCode, res.body).toBe(202);
  return finished(res.json().importId);
}

async function errorsOf(importId: number) {
  const res = await t.as('manager')({ method: 'GET', url: `/api/imports/${importId}/errors?pageSize=200` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items as {
    rowNo: number;
    column: string;
    code: string;
    message: string;
    messages: { 'zh-CN': string; en: string };
    values: Record<string, string>;
  }[];
}

async function customerByCode(code: string) {
  return t.db.selectFrom('customer').selectAll().where('customer_code', '=', code).executeTakeFirst();
}

async function countCustomers(codes: string[]): Promise<number> {
  const r = await t.db
    .selectFrom('customer')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('customer_code', 'in', codes)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function xlsxBuffer(matrix: unknown[][], setup?: (ws: ExcelJS.Worksheet) => void): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('用户');
  for (const r of matrix) ws.addRow(r);
  setup?.(ws);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

describe('import files', () => {
  it('imports a UTF-8 CSV: customer, code, contacts, address, service point, meter, search key, audit', async () => {
    const rows = [
      personRow(1, { 备用电话: '0371-65551234', 低保减免量: '5' }),
      personRow(2, { 用户状态: '空房', 安装方式: '地埋' }),
      personRow(3, {
        用户编号: '',
        用户类型: '单位',
        用户名称: '郑州测试餐饮有限公司',
        身份证号: '',
        统一社会信用代码: creditCode(3),
        用水性质: '经营服务用水',
        口径: '50',
      }),
      personRow(4, {
        业务类型: '燃气',
        用水性质: 'G_RES',
        口径: '',
        流量规格: '2.5',
        表号: 'GT00000004',
        楼层: '12',
        IC卡表: '是',
      }),
    ];
    const batch = await importFile(`\uFEFF${toCsv(rows)}`);
    expect(batch).toMatchObject({
      status: 'done',
      format: 'csv',
      encoding: 'utf-8',
      totalRows: 4,
      processedRows: 4,
      importedRows: 4,
      unchangedRows: 0,
      errorRows: 0,
      fileError: null,
    });

    const c1 = (await customerByCode('T000001'))!;
    expect(c1).toMatchObject({
      office_id: office1,
      kind: 'person',
      name: '测试用户1',
      id_card_no: idCard(1),
      state: 'active',
      connected_on: '2023-05-06',
      low_income: true,
    });
    expect(Number(c1.low_income_reduction_m3)).toBe(5);
    const contacts = await t.db
      .selectFrom('contact')
      .select(['phone', 'is_primary'])
      .where('account_id', '=', c1.account_id)
      .orderBy('contact_id')
      .execute();
    expect(contacts).toEqual([
      { phone: '13900000001', is_primary: true },
      { phone: '0371-65551234', is_primary: false },
    ]);
    const meter = await t.db
      .selectFrom('meter')
      .selectAll()
      .where('account_id', '=', c1.account_id)
      .executeTakeFirstOrThrow();
    expect(meter).toMatchObject({ meter_no: 'WT00000001', caliber_dn: 15, install_date: '2023-05-06' });
    const registry = await t.db
      .selectFrom('meter_registry')
      .selectAll()
      .where('meter_no', '=', 'WT00000001')
      .executeTakeFirstOrThrow();
    expect(registry).toMatchObject({ account_id: c1.account_id, meter_id: meter.meter_id });

    expect((await customerByCode('T000002'))!.state).toBe('vacant');
    const gas = (await customerByCode('T000004'))!;
    expect(gas.utility).toBe('gas');

    // The organisation got a generated code: office code + 8-digit account id.
    const org = await t.db
      .selectFrom('customer')
      .selectAll()
      .where('name', '=', '郑州测试餐饮有限公司')
      .executeTakeFirstOrThrow();
    expect(org.customer_code).toBe(`0101${String(org.account_id).padStart(8, '0')}`);
    expect(org.credit_code).toBe(creditCode(3));
    expect(org.id_card_no).toBeNull();

    // The search key is the one the customers module computes.
    const ids = [c1.account_id, org.account_id, gas.account_id];
    const before = await t.db
      .selectFrom('customer')
      .select(['account_id', 'search_key'])
      .where('account_id', 'in', ids)
      .execute();
    await refreshSearchKeys(t.db, ids);
    const after = await t.db
      .selectFrom('customer')
      .select(['account_id', 'search_key'])
      .where('account_id', 'in', ids)
      .execute();
    expect(after.sort((a, b) => a.account_id - b.account_id)).toEqual(
      before.sort((a, b) => a.account_id - b.account_id),
    );
    const found = await t.as('manager')({
      method: 'GET',
      url: `/api/customers?q=${encodeURIComponent('WT00000001')}`,
    });
    expect(found.json().items[0]).toMatchObject({ customerCode: 'T000001', exact: true });

    // Audited: the upload in the request, the completion, and each customer's origin.
    const audits = await t.db
      .selectFrom('audit_log')
      .select(['entity_type', 'action', 'staff_id', 'account_id', 'after'])
      .where((eb) =>
        eb.or([
          eb.and([eb('entity_type', '=', 'import'), eb('entity_id', '=', String(batch.importId))]),
          eb('account_id', '=', c1.account_id),
        ]),
      )
      .orderBy('audit_id')
      .execute();
    expect(audits.map((a) => `${a.entity_type}:${a.action}`)).toEqual([
      'import:upload',
      'customer:import',
      'import:import_done',
    ]);
    expect(audits[2]!.after).toMatchObject({ status: 'done', importedRows: 4, errorRows: 0 });
  });

  it('imports a GBK CSV as Chinese Excel writes it', async () => {
    const rows = [personRow(11), personRow(12, { 用户名称: '欧阳娜娜', 小区: '锦绣华府' })];
    const gbk = iconv.encode(toCsv(rows), 'gbk');
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(gbk)).toThrow();
    const batch = await importFile(gbk, '用户资料.csv');
    expect(batch).toMatchObject({ status: 'done', encoding: 'gbk', importedRows: 2, errorRows: 0 });
    expect((await customerByCode('T000012'))!.name).toBe('欧阳娜娜');
    const address = await t.db
      .selectFrom('address')
      .selectAll()
      .where('account_id', '=', (await customerByCode('T000012'))!.account_id)
      .executeTakeFirstOrThrow();
    expect(address.community).toBe('锦绣华府');
  });

  it('imports an XLSX workbook with English headers, Excel date cells and a full-address column', async () => {
    const header = [
      'customer_code',
      'kind',
      'name',
      'id_card_no',
      'phone',
      'address',
      'usage_type',
      'meter_no',
      'caliber_dn',
      'install_date',
      'connected_on',
      'state',
    ];
    const matrix: unknown[][] = [
      ['客户资料导入（金水营业所）'],
      header,
      [
        'X000021',
        'person',
        '李雷',
        idCard(21),
        13912345621,
        '金水区幸福小区3号楼2单元501室',
        'W_RES',
        'WX00000021',
        20,
        new Date(Date.UTC(2022, 10, 3)),
        new Date(Date.UTC(2022, 10, 1)),
        'active',
      ],
      [],
      [
        'X000022',
        '个人',
        '韩梅梅',
        idCard(22),
        '13912345622',
        '幸福小区3-2-502',
        '居民生活用水',
        'WX00000022',
        'DN15',
        '2022/11/4',
        '20221101',
        '正常',
      ],
    ];
    const buffer = await xlsxBuffer(matrix, (ws) => {
      ws.getCell('J3').numFmt = 'yyyy-mm-dd';
      ws.getCell('K3').numFmt = 'yyyy/m/d';
    });
    const batch = await importFile(buffer, 'customers.xlsx', XLSX_TYPE);
    expect(batch, JSON.stringify(await errorsOf(batch.importId))).toMatchObject({
      status: 'done',
      format: 'xlsx',
      totalRows: 2,
      importedRows: 2,
    });
    expect(batch.columns.headerRow).toBe(2);
    const lei = (await customerByCode('X000021'))!;
    expect(lei.connected_on).toBe('2022-11-01');
    const address = await t.db
      .selectFrom('address')
      .selectAll()
      .where('account_id', '=', lei.account_id)
      .executeTakeFirstOrThrow();
    expect(address).toMatchObject({
      district: '金水区',
      community: '幸福小区',
      building: '3',
      unit: '2',
      door: '501',
    });
    const meter = await t.db
      .selectFrom('meter')
      .selectAll()
      .where('account_id', '=', lei.account_id)
      .executeTakeFirstOrThrow();
    expect(meter).toMatchObject({ install_date: '2022-11-03', caliber_dn: 20 });
    const mei = (await customerByCode('X000022'))!;
    const address2 = await t.db
      .selectFrom('address')
      .selectAll()
      .where('account_id', '=', mei.account_id)
      .executeTakeFirstOrThrow();
    expect(address2).toMatchObject({ community: '幸福小区', building: '3', unit: '2', door: '502' });
  });

  it('imports the good rows of a file with bad ones and reports each bad row with its reason', async () => {
    const rows: Row[] = [
      personRow(31),
      personRow(32, { 身份证号: badIdCard(32) }),
      personRow(33, { 安装日期: '2023-02-30' }),
      personRow(34, { 立户日期: '2099-01-01' }),
      personRow(35, { 用水性质: 'W_NOPE' }),
      personRow(36, { 表号: 'WT00000031' }),
      personRow(37, { 用户名称: '' }),
      personRow(38, { 用户类型: '外星人' }),
      personRow(39, { 联系电话: '12345' }),
      personRow(40, { 业务类型: '燃气', 用水性质: 'G_RES', 口径: '', 流量规格: '4', 楼层: '15' }),
      personRow(41),
      personRow(41),
      personRow(42, { 用户编号: 'T000031', 表号: 'WT00000042' }),
    ];
    const batch = await importFile(toCsv(rows), 'bad.csv');
    expect(batch).toMatchObject({
      status: 'done',
      totalRows: 13,
      processedRows: 13,
      importedRows: 2,
      errorRows: 11,
    });
    expect(await countCustomers(['T000031', 'T000041'])).toBe(2);
    expect(await countCustomers(rows.slice(1, 10).map((r) => r.用户编号))).toBe(0);

    const errors = await errorsOf(batch.importId);
    const byRow = (rowNo: number) => errors.filter((e) => e.rowNo === rowNo);
    // Row numbers are the spreadsheet's: the header is row 1.
    expect(byRow(3)[0]).toMatchObject({ column: '身份证号', code: 'ID_CARD_CHECKSUM' });
    expect(byRow(4)[0]).toMatchObject({ column: '安装日期', code: 'DATE_INVALID' });
    expect(byRow(5)[0]).toMatchObject({ column: '立户日期', code: 'DATE_IN_FUTURE' });
    expect(byRow(6)[0]).toMatchObject({ column: '用水性质', code: 'USAGE_TYPE_UNKNOWN' });
    expect(byRow(7)[0]).toMatchObject({ column: '表号', code: 'DUPLICATE_METER_NO' });
    expect(byRow(7)[0]!.messages).toEqual({
      'zh-CN': '表号 WT00000031 与第 2 行重复',
      en: 'Meter number WT00000031 already appears in row 2',
    });
    expect(byRow(8)[0]).toMatchObject({ column: '用户名称', code: 'REQUIRED' });
    expect(byRow(9)[0]).toMatchObject({ column: '用户类型', code: 'VALUE_NOT_ALLOWED' });
    expect(byRow(9)[0]!.messages['zh-CN']).toContain('个人 / 单位');
    expect(byRow(10)[0]).toMatchObject({ column: '联系电话', code: 'PHONE_FORMAT' });
    expect(byRow(11)[0]).toMatchObject({ column: 'IC卡表', code: 'IC_CARD_REQUIRED' });
    expect(byRow(13)[0]).toMatchObject({
      code: 'DUPLICATE_ROW',
      messages: { 'zh-CN': '与第 12 行完全相同' },
    });
    expect(byRow(14)[0]).toMatchObject({ column: '用户编号', code: 'DUPLICATE_CUSTOMER_CODE' });
    expect(byRow(3)[0]!.values).toMatchObject({ 用户编号: 'T000032', 身份证号: badIdCard(32) });

    // The report: every bad row, its reasons in both languages, and its original values.
    const csv = await t.as('manager')({
      method: 'GET',
      url: `/api/imports/${batch.importId}/report?format=csv`,
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toContain('attachment');
    expect(csv.rawPayload.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(true);
    const lines = csv.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toBe(`行号,出错列,错误原因,Reason,${toCsv([]).trim()}`);
    expect(lines[1]).toContain(
      '3,身份证号,身份证号码校验位不正确,The ID card number check digit is wrong,T000032',
    );
    expect(lines.some((l) => l.startsWith('7,表号,表号 WT00000031 与第 2 行重复'))).toBe(true);

    const xlsx = await t.as('manager')({
      method: 'GET',
      url: `/api/imports/${batch.importId}/report?format=xlsx`,
    });
    expect(xlsx.statusCode).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const sheet = wb.worksheets[0]!;
    expect(sheet.rowCount).toBe(12);
    expect(sheet.getRow(2).values).toEqual(
      expect.arrayContaining([3, '身份证号', '身份证号码校验位不正确', 'T000032', badIdCard(32)]),
    );

    // A corrected report imports again: the lead columns are ignored, fixed rows go in.
    const fixed = lines.map((l) => l.replace(badIdCard(32), idCard(32))).join('\r\n');
    const again = await importFile(`${fixed}\r\n`, 'fixed.csv');
    expect(again.columns.ignored).toEqual(['行号', '出错列', '错误原因', 'Reason']);
    expect(again.importedRows).toBeGreaterThanOrEqual(1);
    expect(await countCustomers(['T000032'])).toBe(1);
  });

  it('refuses a file with missing columns, naming them; nothing is imported', async () => {
    const header = ['用户编号', '用户类型', '身份证号', '小区', '用水性质', '表号'];
    const csv = `${header.join(',')}\r\nT000051,个人,${idCard(51)},幸福小区,W_RES,WT00000051\r\n`;
    const batch = await importFile(csv, 'missing.csv');
    expect(batch.status).toBe('failed');
    expect(batch.fileError).toMatchObject({
      code: 'FILE_MISSING_COLUMNS',
      message: '缺少必需的列：用户名称、联系电话',
    });
    expect(batch.fileError.messages.en).toBe(
      'Required columns are missing: name (用户名称); phone (联系电话)',
    );
    expect(await countCustomers(['T000051'])).toBe(0);
    const report = await t.as('manager')({ method: 'GET', url: `/api/imports/${batch.importId}/report` });
    expect(report.body).toContain('缺少必需的列：用户名称、联系电话');
    const done = await t.db
      .selectFrom('audit_log')
      .select('after')
      .where('entity_type', '=', 'import')
      .where('entity_id', '=', String(batch.importId))
      .where('action', '=', 'import_done')
      .executeTakeFirstOrThrow();
    expect(done.after).toMatchObject({ status: 'failed', fileError: 'FILE_MISSING_COLUMNS' });
  });

  it('refuses files in a wrong encoding or that are no table at all', async () => {
    const csv = toCsv([personRow(61)]);
    const utf16 = await importFile(iconv.encode(csv, 'utf-16le', { addBOM: false }), 'utf16.csv');
    expect(utf16.fileError.code).toBe('FILE_UTF16_NO_BOM');
    expect(utf16.fileError.message).toContain('编码错误');

    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + 13) % 256;
    expect((await importFile(random, 'random.csv')).fileError.code).toBe('FILE_BINARY');

    const notGbk = Buffer.concat([
      Buffer.from('用户编号,'),
      Buffer.from([0xff, 0xfe, 0xff, 0x80]),
      Buffer.from('\r\n'),
    ]);
    const bad = await importFile(Buffer.concat([Buffer.from([0x41]), notGbk]), 'bad.csv');
    expect(bad.fileError.code).toBe('FILE_ENCODING');

    // Big5 text decodes as GBK but means nothing: the header is not recognised.
    const big5 = await importFile(iconv.encode(csv, 'big5'), 'big5.csv');
    expect(big5.fileError.code).toBe('FILE_NO_HEADER');
    expect(big5.fileError.messages.en).toContain('encoding');

    const xls = await importFile(
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]),
      'old.xls',
    );
    expect(xls.fileError.code).toBe('FILE_XLS_OLD');
    expect(await countCustomers(['T000061'])).toBe(0);

    // UTF-16 with a BOM (Excel's "Unicode text", tab-separated) is fine.
    const tsv = csv.replace(/,/g, '\t');
    const withBom = await importFile(iconv.encode(tsv, 'utf-16le', { addBOM: true }), 'unicode.txt');
    expect(withBom).toMatchObject({ status: 'done', encoding: 'utf-16le', importedRows: 1 });
  });

  it('answers the same file uploaded twice with the first batch; nothing is created twice', async () => {
    const csv = toCsv([personRow(71), personRow(72)]);
    const first = await importFile(csv);
    expect(first.importedRows).toBe(2);
    const again = await upload(csv, 'renamed.csv');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({
      importId: first.importId,
      status: 'done',
      importedRows: 2,
      duplicateOf: { importId: first.importId, fileName: 'customers.csv' },
    });
    expect(await countCustomers(['T000071', 'T000072'])).toBe(2);
    const batches = await t.db
      .selectFrom('import_batch')
      .select('import_id')
      .where(
        'sha256',
        '=',
        (
          await t.db
            .selectFrom('import_batch')
            .select('sha256')
            .where('import_id', '=', first.importId)
            .executeTakeFirstOrThrow()
        ).sha256,
      )
      .execute();
    expect(batches).toHaveLength(1);
  });

  it('counts rows of an overlapping second file as unchanged, and refuses codes in use with other data', async () => {
    await importFile(toCsv([personRow(81), personRow(82), personRow(85)]));
    const second = await importFile(
      toCsv([
        personRow(81),
        personRow(82, { 用户名称: '改名了' }),
        personRow(83),
        personRow(86, { 表号: 'WT00000085' }),
      ]),
    );
    expect(second).toMatchObject({ importedRows: 1, unchangedRows: 1, errorRows: 2 });
    const errors = await errorsOf(second.importId);
    expect(errors.find((e) => e.rowNo === 3)).toMatchObject({
      column: '用户编号',
      code: 'CUSTOMER_CODE_IN_USE',
    });
    expect(errors.find((e) => e.rowNo === 3)!.messages['zh-CN']).toBe(
      '用户编号 T000082 已被使用，且已有资料与本行不同（用户名称）',
    );
    expect(errors.find((e) => e.rowNo === 5)).toMatchObject({
      column: '表号',
      code: 'METER_NUMBER_IN_USE',
      messages: { 'zh-CN': '表号 WT00000085 已被用户 T000085 使用' },
    });
    expect((await customerByCode('T000082'))!.name).toBe('测试用户82');
    expect(await countCustomers(['T000081', 'T000082', 'T000083', 'T000085', 'T000086'])).toBe(4);

    // Without a customer code, the meter number finds the customer: the same data is unchanged.
    const third = await importFile(toCsv([personRow(85, { 用户编号: '' })]));
    expect(third).toMatchObject({ importedRows: 0, unchangedRows: 1, errorRows: 0 });
  });

  it('imports master meters before their sub-meters and refuses unknown masters', async () => {
    const batch = await importFile(
      toCsv([
        personRow(91, {
          表类型: '总表',
          用户类型: '单位',
          身份证号: '',
          统一社会信用代码: creditCode(91),
          口径: 'DN100',
        }),
        personRow(92, { 表类型: '分表', 总表号: 'WT00000091' }),
        personRow(93, { 总表号: 'NOSUCHMETER' }),
      ]),
    );
    expect(batch).toMatchObject({ importedRows: 2, errorRows: 1 });
    expect((await errorsOf(batch.importId))[0]).toMatchObject({
      rowNo: 4,
      column: '总表号',
      code: 'MASTER_METER_UNKNOWN_IN_IMPORT',
    });
  });

  it('keeps batches to their office: another office’s manager cannot see, list or download them', async () => {
    const batch = await importFile(toCsv([personRow(101)]));
    for (const url of [
      `/api/imports/${batch.importId}`,
      `/api/imports/${batch.importId}/errors`,
      `/api/imports/${batch.importId}/report?format=csv`,
    ]) {
      expect((await t.as('manager2')({ method: 'GET', url })).statusCode, url).toBe(404);
    }
    const list = (await t.as('manager2')({ method: 'GET', url: '/api/imports' })).json();
    expect(list.items.map((b: { importId: number }) => b.importId)).not.toContain(batch.importId);
    const mine = (await t.as('manager')({ method: 'GET', url: '/api/imports?pageSize=5' })).json();
    expect(mine.items[0].importId).toBeGreaterThan(mine.items[1].importId);
    expect(mine.items.every((b: { officeId: number }) => b.officeId === office1)).toBe(true);

    const intoOther = await upload(toCsv([personRow(102)]), 'x.csv', { officeId: office1, user: 'manager2' });
    expect(intoOther.statusCode).toBe(403);
    const clerk = await upload(toCsv([personRow(103)]), 'x.csv', { user: 'clerk' });
    expect(clerk.statusCode).toBe(403);
  });

  it('serves a template (CSV and XLSX) that imports as it is', async () => {
    const csv = await t.as('manager')({ method: 'GET', url: '/api/imports/template?format=csv' });
    expect(csv.statusCode).toBe(200);
    expect(csv.body.startsWith('\uFEFF用户编号,用户类型,用户名称,身份证号')).toBe(true);
    expect(csv.body.trim().split('\r\n')).toHaveLength(2);
    const fromCsv = await importFile(csv.rawPayload, 'template.csv');
    expect(fromCsv, JSON.stringify(await errorsOf(fromCsv.importId))).toMatchObject({
      importedRows: 1,
      errorRows: 0,
    });

    const xlsx = await t.as('manager')({ method: 'GET', url: '/api/imports/template?format=xlsx' });
    expect(xlsx.statusCode).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    expect(wb.worksheets[0]!.getRow(1).getCell(1).value).toBe('用户编号');
    // The same example row again: its meter identifies the customer, who is unchanged.
    const fromXlsx = await importFile(xlsx.rawPayload, 'template.xlsx', XLSX_TYPE);
    expect(fromXlsx).toMatchObject({ importedRows: 0, unchangedRows: 1, errorRows: 0 });
  });

  it('imports in chunks and resumes after a stop or a crash without writing anything twice', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => personRow(200 + i));
    rows[7] = personRow(207, { 身份证号: badIdCard(207) });
    const codes = rows.map((r) => r.用户编号);
    const importId = await queueDirectly(toCsv(rows), 'resume.csv');

    // A runner that stops after its first chunk of 5 rows: the state a crash after a commit leaves.
    let stopper: ImportRunner | null = null;
    stopper = new ImportRunner(t.db, t.config, {
      chunkRows: 5,
      logger: quiet,
      hooks: { afterChunk: () => void stopper!.stop() },
    });
    stopper.enqueue(importId);
    await stopper.idle();
    const partial = await t.db
      .selectFrom('import_batch')
      .selectAll()
      .where('import_id', '=', importId)
      .executeTakeFirstOrThrow();
    expect(partial).toMatchObject({
      status: 'running',
      next_row: 7,
      processed_rows: 5,
      imported_rows: 5,
      total_rows: 12,
    });
    expect(await countCustomers(codes)).toBe(5);

    // After the "restart": the next chunk crashes before its commit once, is rolled back and retried.
    let crashes = 0;
    const restarted = new ImportRunner(t.db, t.config, {
      chunkRows: 5,
      retryDelayMs: 1,
      logger: quiet,
      hooks: {
        beforeCommit: async (_id, nextRow) => {
          if (nextRow === 12 && crashes++ === 0) {
            expect(await countCustomers(codes)).toBe(5); // not yet visible outside the transaction
            throw new Error('simulated crash in the middle of a chunk');
          }
        },
      },
    });
    expect(await restarted.resume()).toContain(importId);
    await restarted.idle();
    expect(crashes).toBe(2);
    const batch = await finished(importId);
    expect(batch).toMatchObject({
      status: 'done',
      processedRows: 12,
      importedRows: 11,
      errorRows: 1,
      unchangedRows: 0,
    });
    expect(await countCustomers(codes)).toBe(11);
    const meters = await t.db
      .selectFrom('meter')
      .select('meter_no')
      .where('meter_no', 'like', 'WT000002%')
      .execute();
    expect(meters).toHaveLength(11);
    expect((await errorsOf(importId)).map((e) => e.rowNo)).toEqual([9]);
    const keys = await t.db
      .selectFrom('import_row_key')
      .select('key')
      .where('import_id', '=', importId)
      .execute();
    expect(keys).toEqual([]);
  });

  it('uploading the same file again after a fault retries the batch from where it stopped', async () => {
    const rows = Array.from({ length: 6 }, (_, i) => personRow(300 + i));
    const csv = toCsv(rows);
    const importId = await queueDirectly(csv, 'fault.csv');
    await t.db
      .updateTable('import_batch')
      .set({ sha256: createHash('sha256').update(csv).digest('hex') })
      .where('import_id', '=', importId)
      .execute();
    // Every commit fails: the runner gives up and marks the batch interrupted.
    const failing = new ImportRunner(t.db, t.config, {
      chunkRows: 5,
      retryDelayMs: 1,
      logger: quiet,
      hooks: {
        beforeCommit: async () => {
          throw new Error('database went away');
        },
      },
    });
    failing.enqueue(importId);
    await failing.idle();
    const failed = await finished(importId);
    expect(failed.status).toBe('failed');
    expect(failed.fileError.code).toBe('IMPORT_INTERRUPTED');

    const again = await upload(csv, 'fault.csv');
    expect(again.statusCode).toBe(202);
    expect(again.json().importId).toBe(importId);
    expect(await finished(importId)).toMatchObject({ status: 'done', importedRows: 6, errorRows: 0 });
    expect(await countCustomers(rows.map((r) => r.用户编号))).toBe(6);
  });

  it('enforces the configured size and row limits', async () => {
    const set = (key: string, value: number) =>
      t.as('admin')({
        method: 'PUT',
        url: `/api/settings/${key}`,
        payload: { value, effectiveFrom: '2020-01-01' },
      });
    expect((await set('import.maxRows', 2)).statusCode).toBeLessThan(300);
    const many = await importFile(toCsv([personRow(301), personRow(302), personRow(303)]));
    expect(many.fileError).toMatchObject({ code: 'FILE_TOO_MANY_ROWS', data: { rows: 3, maxRows: 2 } });
    expect((await set('import.maxBytes', 100)).statusCode).toBeLessThan(300);
    const big = await upload(toCsv([personRow(304)]));
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    await set('import.maxRows', 500_000);
    await set('import.maxBytes', 100 * 1024 * 1024);
  });
});

const quiet = { info() {}, warn() {}, error() {} } as never;

/** A batch queued as an upload leaves it, without the app's runner picking it up. */
async function queueDirectly(csv: string, fileName: string): Promise<number> {
  const staff = await t.db
    .selectFrom('staff')
    .select('staff_id')
    .where('username', '=', 'manager')
    .executeTakeFirstOrThrow();
  const row = await t.db
    .insertInto('import_batch')
    .values({
      office_id: office1,
      file_name: fileName,
      sha256: `test-${fileName}-${Date.now()}`,
      format: 'csv',
      storage_path: '',
      created_by: staff.staff_id,
    })
    .returning('import_id')
    .executeTakeFirstOrThrow();
  const storagePath = path.join('imports', `${row.import_id}.csv`);
  await mkdir(path.join(t.config.dataDir, 'imports'), { recursive: true });
  await writeFile(path.join(t.config.dataDir, storagePath), csv);
  await t.db
    .updateTable('import_batch')
    .set({ storage_path: storagePath })
    .where('import_id', '=', row.import_id)
    .execute();
  return row.import_id;
}

describe('office scope of uploads', () => {
  it('accepts an upload into the caller’s own office only', async () => {
    const res = await upload(toCsv([personRow(401)]), 'own.csv', { user: 'manager2', officeId: office2 });
    expect(res.statusCode, res.body).toBe(202);
    const batch = await finished(res.json().importId, 'manager2');
    expect(batch).toMatchObject({ officeId: office2, officeCode: '0102', importedRows: 1 });
    expect((await customerByCode('T000401'))!.office_id).toBe(office2);
  });
});
