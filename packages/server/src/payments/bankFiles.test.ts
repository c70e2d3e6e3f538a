import { createHash } from 'node:crypto';
import {
  type BankFileFormat,
  type BankResultRow,
  EXAMPLE_BANK_FORMATS,
  renderResultFile,
} from '@meterline/domain/payments/bankFiles';
import iconv from 'iconv-lite';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../billing/prepaid.ts';
import { seedDemoMandates } from '../seed/bankDebit.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { multipart } from '../testing/multipart.ts';
import { bankImportsIdle, importResultFile, resumeBankImports } from './bankFiles.ts';
import { accountLedgerProblems } from './ledger.ts';
import { takePayment } from './service.ts';

/**
 * Bank direct debit files (docs/bank-files.md): the debit-request file for customers with a
 * mandate and something owed; result files posted once per bank reference, re-imports posting
 * nothing, malformed files reported problem by problem while their good lines post; an
 * interrupted import resumed; the ledger balanced afterwards.
 */

interface Cust {
  account_id: number;
  meter_id: number;
  customer_code: string;
  office_id: number;
}

let t: TestApp;
let officeA: number;
/** a1–a6 in office 0101, b1 in another office. */
let a: Cust[];
/** Two more customers of office A, for the background import. */
let extra: Cust[];
let b1: Cust;
let billSeq = 0;
const PERIOD = '2026-10';
const ICBC = EXAMPLE_BANK_FORMATS.ICBC;
const CCB = EXAMPLE_BANK_FORMATS.CCB;

async function insertBill(c: Cust, amountFen: number): Promise<number> {
  billSeq += 1;
  const row = await t.db
    .insertInto('bill')
    .values({
      account_id: c.account_id,
      bill_no: `202610-B${String(billSeq).padStart(7, '0')}`,
      meter_id: c.meter_id,
      reading_id: null,
      run_id: null,
      usage_type_code: 'W_RES',
      period: PERIOD,
      period_from: `${PERIOD}-01`,
      period_to: `${PERIOD}-28`,
      consumption_m3: '10.000',
      payable_m3: '10.000',
      amount_fen: amountFen,
      due_on: `${PERIOD}-28`,
      created_by: null,
    })
    .returning('bill_id')
    .executeTakeFirstOrThrow();
  await t.db
    .insertInto('bill_line')
    .values({
      account_id: c.account_id,
      bill_id: row.bill_id,
      line_no: 1,
      kind: 'charge',
      code: 'charge',
      block_no: null,
      description_zh: '水费',
      description_en: 'Water',
      unit_price_fen: null,
      amount_fen: amountFen,
      from_date: null,
      to_date: null,
      tariff_version: null,
    })
    .execute();
  return row.bill_id;
}

async function mandate(
  c: Cust,
  bankCode: string,
  holderName: string,
  status: 'active' | 'cancelled' = 'active',
) {
  await t.db
    .insertInto('debit_mandate')
    .values({
      account_id: c.account_id,
      bank_code: bankCode,
      bank_account_no: `62220202${String(c.account_id).padStart(11, '0')}`,
      holder_name: holderName,
      signed_on: '2026-01-15',
      status,
      cancelled_on: status === 'cancelled' ? '2026-06-01' : null,
    })
    .execute();
}

const resultRow = (
  c: Cust | string,
  amountFen: number,
  ref: string,
  code = '0000',
  reason = '',
): BankResultRow => ({
  accountRef: typeof c === 'string' ? c : c.customer_code,
  bankAccountNo: '6222020200000000001',
  holderName: '王伟',
  amountFen,
  bankTxnRef: ref,
  resultCode: code,
  reason,
});

const encode = (format: BankFileFormat, text: string) =>
  format.encoding === 'gbk' ? iconv.encode(text, 'gbk') : Buffer.from(text, 'utf8');

const resultFile = (format: BankFileFormat, bankCode: string, batchNo: string, rows: BankResultRow[]) =>
  encode(format, renderResultFile(format, { bankCode, fileDate: '20261124', batchNo }, rows));

const upload = (bankCode: string, content: Buffer, name = 'result.txt', user = 'finance') => {
  const body = multipart({}, { name, type: 'text/plain', content });
  return t.as(user)({
    method: 'POST',
    url: `/api/bank-files/imports?bankCode=${bankCode}`,
    payload: body.payload,
    headers: body.headers,
  });
};

const paymentsOf = async (c: Cust) =>
  t.db
    .selectFrom('payment')
    .select(['amount_fen', 'channel', 'source', 'external_ref'])
    .where('account_id', '=', c.account_id)
    .orderBy('payment_id')
    .execute();

const paidFen = async (c: Cust) =>
  Number(
    (
      await sql<{ s: string }>`select coalesce(sum(paid_fen), 0)::text as s from bill
        where account_id = ${c.account_id}`.execute(t.db)
    ).rows[0]!.s,
  );

beforeAll(async () => {
  t = await createTestApp({ customers: 30 });
  const offices = await t.db.selectFrom('office').select(['office_id', 'code']).execute();
  officeA = offices.find((o) => o.code === '0101')!.office_id;
  const customersOf = async (office: number, same = true) =>
    (
      await sql<Cust>`
        select distinct on (c.account_id) c.account_id, m.meter_id, c.customer_code, c.office_id
        from customer c join meter m on m.account_id = c.account_id
        where (c.office_id = ${office}) = ${same} order by c.account_id, m.meter_id`.execute(t.db)
    ).rows;
  a = (await customersOf(officeA)).slice(0, 6);
  // The demo seed puts a small test's customers in the first office: move one to another.
  b1 = (await customersOf(officeA, false))[0] ?? (await customersOf(officeA)).at(-1)!;
  if (b1.office_id === officeA) {
    const other = offices.find((o) => o.office_id !== officeA)!.office_id;
    await sql`update customer set office_id = ${other} where account_id = ${b1.account_id}`.execute(t.db);
    b1 = { ...b1, office_id: other };
  }
  extra = (await customersOf(officeA))
    .filter((c) => !a.some((x) => x.account_id === c.account_id) && c.account_id !== b1.account_id)
    .slice(0, 2);

  expect(a).toHaveLength(6);
  await insertBill(a[0]!, 10_000);
  await insertBill(a[1]!, 6_000);
  await insertBill(a[2]!, 2_500);
  await insertBill(a[2]!, 1_000);
  await insertBill(a[3]!, 3_000);
  await insertBill(a[5]!, 7_000);
  await insertBill(b1, 4_000);
  await mandate(a[0]!, 'ICBC', '王伟');
  await mandate(a[1]!, 'ICBC', '李娜');
  await mandate(a[2]!, 'ICBC', '欧阳娜娜的很长很长的户名');
  await mandate(a[3]!, 'CCB', '张三,李四');
  await mandate(a[4]!, 'ICBC', '赵六'); // owes nothing
  await mandate(a[5]!, 'ICBC', '钱七', 'cancelled');
  await mandate(b1, 'ICBC', '孙八');
});

afterAll(async () => {
  await t?.close();
});

describe('export', () => {
  it('previews and makes the ICBC debit file: GBK fixed-width, active mandates with something owed', async () => {
    const preview = await t.as('finance')({ method: 'GET', url: '/api/bank-files/exports?bankCode=ICBC' });
    expect(preview.statusCode, preview.body).toBe(200);
    expect(preview.json()).toMatchObject({ bankCode: 'ICBC', rows: 4, totalFen: 23_500 });

    const res = await t.as('finance')({
      method: 'POST',
      url: `/api/bank-files/exports?bankCode=ICBC&officeId=${officeA}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain('GBK');
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="DEBIT_ICBC_\d{8}_\d{10}_\d+\.txt"/,
    );
    expect(res.headers['x-bank-file-rows']).toBe('3');
    const text = iconv.decode(res.rawPayload, 'gbk');
    const lines = text.split('\r\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^HICBC\d{8}\d{10}$/);
    expect(lines.slice(1, 4).map((l) => l.slice(7, 23).trim())).toEqual(
      [a[0]!, a[1]!, a[2]!].map((c) => c.customer_code).sort(),
    );
    for (const l of lines.slice(1, 4)) expect(iconv.encode(l, 'gbk').length).toBe(79);
    expect(text).toContain('王伟');
    expect(lines[4]).toBe(`T00000003${String(19_500).padStart(15, '0')}`);
    // The long name was cut to its 20 bytes, not mid-character.
    expect(text).toContain('欧阳娜娜的很长很长的');

    const fileId = Number(res.headers['x-bank-file-id']);
    const again = await t.as('finance')({ method: 'GET', url: `/api/bank-files/${fileId}/content` });
    expect(again.rawPayload.equals(res.rawPayload)).toBe(true);
    const list = await t.as('finance')({ method: 'GET', url: '/api/bank-files?direction=export' });
    expect(list.json().items[0]).toMatchObject({ fileId, bankCode: 'ICBC', rows: 3, totalFen: 19_500 });
    const audits = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('entity_type', '=', 'bank_file')
      .where('entity_id', '=', String(fileId))
      .execute();
    expect(audits.map((x) => x.action)).toEqual(['bank_export']);
  });

  it('makes the CCB file as UTF-8 CSV with yuan amounts', async () => {
    const res = await t.as('finance')({ method: 'POST', url: '/api/bank-files/exports?bankCode=CCB' });
    expect(res.statusCode, res.body).toBe(200);
    const lines = res.body.split('\r\n');
    expect(lines[1]).toBe(
      `D,1,${a[3]!.customer_code},62220202${String(a[3]!.account_id).padStart(11, '0')},"张三,李四",30.00`,
    );
    expect(lines[2]).toBe('T,1,30.00');
  });

  it('refuses a second file for a bank whose last file has no result yet, unless forced', async () => {
    const again = await t.as('finance')({ method: 'POST', url: '/api/bank-files/exports?bankCode=ICBC' });
    expect(again.statusCode, again.body).toBe(409);
    expect(again.json().error.code).toBe('BANK_EXPORT_OUTSTANDING');
    const forced = await t.as('finance')({
      method: 'POST',
      url: '/api/bank-files/exports?bankCode=ICBC&force=true',
    });
    expect(forced.statusCode, forced.body).toBe(200);
    expect(forced.headers['x-bank-file-rows']).toBe('4');
  });

  it('needs payment.finance and a known bank', async () => {
    expect(
      (await t.as('clerk')({ method: 'POST', url: '/api/bank-files/exports?bankCode=ICBC' })).statusCode,
    ).toBe(403);
    const res = await t.as('finance')({ method: 'POST', url: '/api/bank-files/exports?bankCode=NOPE' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.fields[0]).toMatchObject({ path: 'bankCode', code: 'BANK_UNKNOWN' });
  });
});

describe('import', () => {
  let firstReport: { fileId: number };
  const icbcResult = () =>
    resultFile(ICBC, 'ICBC', '2611240001', [
      resultRow(a[0]!, 10_000, 'ICBC-T-0001'),
      resultRow(a[1]!, 6_000, 'ICBC-T-0002', '3001', '余额不足'),
      resultRow(a[2]!, 3_500, 'ICBC-T-0003'),
      resultRow('999999999999', 1_200, 'ICBC-T-0004'),
      resultRow(a[0]!, 10_000, 'ICBC-T-0001'),
    ]);

  it('posts each debited line once, records failed debits, unknown customers and duplicate lines', async () => {
    const res = await upload('ICBC', icbcResult(), '工行回盘.txt');
    expect(res.statusCode, res.body).toBe(201);
    const report = res.json();
    firstReport = report;
    expect(report).toMatchObject({
      status: 'done',
      rows: 5,
      fileName: '工行回盘.txt',
      fileError: null,
      counts: { posted: 2, rejected: 1, unmatched: 1, duplicate: 1, error: 0, pending: 0 },
      amounts: { posted: 13_500, rejected: 6_000, unmatched: 1_200, duplicate: 10_000 },
    });
    expect(report.problems.map((p: { lineNo: number; outcome: string }) => [p.lineNo, p.outcome])).toEqual([
      [3, 'rejected'],
      [5, 'unmatched'],
      [6, 'duplicate'],
    ]);
    expect(report.problems[0].message['zh-CN']).toBe('第 3 行：银行扣款失败（3001 余额不足）');
    expect(report.problems[1].message.en).toBe('Line 5: there is no customer 999999999999');
    expect(await paymentsOf(a[0]!)).toEqual([
      { amount_fen: 10_000, channel: 'direct_debit', source: 'bank_file', external_ref: 'ICBC:ICBC-T-0001' },
    ]);
    expect(await paidFen(a[0]!)).toBe(10_000);
    expect(await paidFen(a[2]!)).toBe(3_500);
    expect(await paymentsOf(a[1]!)).toEqual([]);
  });

  it('answers a byte-identical file with its first report and posts nothing', async () => {
    const res = await upload('ICBC', icbcResult(), 'again.txt');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      fileId: firstReport.fileId,
      duplicateOf: { fileId: firstReport.fileId },
      counts: { posted: 2 },
    });
    expect(await paymentsOf(a[0]!)).toHaveLength(1);
  });

  it('posts nothing twice when another file repeats a bank reference already posted', async () => {
    const content = resultFile(ICBC, 'ICBC', '2611240002', [
      resultRow(a[0]!, 10_000, 'ICBC-T-0001'),
      resultRow(b1, 4_000, 'ICBC-T-0005'),
    ]);
    const res = await upload('ICBC', content);
    expect(res.statusCode, res.body).toBe(201);
    const report = res.json();
    expect(report.counts).toMatchObject({ posted: 1, duplicate: 1 });
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0].message['zh-CN']).toMatch(
      /^第 2 行：银行流水号 ICBC-T-0001 已入账（收费单 SK\d+），未重复入账$/,
    );
    expect(await paymentsOf(a[0]!)).toHaveLength(1);
    expect(await paymentsOf(b1)).toHaveLength(1);
  });

  it('refuses a file that does not decode, posting nothing, and says so', async () => {
    const good = resultFile(CCB, 'CCB', '1', [resultRow(a[3]!, 3_000, 'CCB-1')]);
    const bad = Buffer.concat([good.subarray(0, 20), Buffer.from([0xff, 0xfe]), good.subarray(20)]);
    const res = await upload('CCB', bad);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      status: 'failed',
      fileError: { code: 'ENCODING_INVALID_UTF8' },
      counts: { posted: 0 },
    });
    expect(res.json().fileError.message['zh-CN']).toContain('UTF-8');
    // GBK sent where UTF-8 is expected, and the other way round.
    const gbk = iconv.encode(
      renderResultFile(CCB, { bankCode: 'CCB', fileDate: '20261124', batchNo: '2' }, [
        resultRow(a[3]!, 3_000, 'CCB-1'),
      ]),
      'gbk',
    );
    expect((await upload('CCB', gbk)).json().fileError.code).toBe('ENCODING_INVALID_UTF8');
    const utf8ToIcbc = Buffer.from(
      renderResultFile(ICBC, { bankCode: 'ICBC', fileDate: '20261124', batchNo: '3' }, [
        resultRow(a[3]!, 3_000, 'X'),
      ]),
    );
    expect((await upload('ICBC', utf8ToIcbc)).json().fileError.code).toBe('ENCODING_LOOKS_UTF8');
    expect(await paymentsOf(a[3]!)).toEqual([]);
  });

  it('reports a wrong trailer, a bad amount, a missing field and a duplicate line; posts the good line once', async () => {
    const text = [
      'H,CCB,20261124,0000000009',
      `D,1,${a[3]!.customer_code},6222,张三,30.00,CCB-2001,00,`,
      `D,2,${a[4]!.customer_code},6222,赵六,12.3x,CCB-2002,00,`,
      'D,3,,6222,无名,5.00,CCB-2003,00,',
      `D,4,${a[3]!.customer_code},6222,张三,30.00,CCB-2001,00,`,
      'T,4,99.00',
    ].join('\r\n');
    const res = await upload('CCB', Buffer.from(text), 'ccb.csv');
    expect(res.statusCode, res.body).toBe(201);
    const report = res.json();
    expect(report.counts).toMatchObject({ posted: 1, duplicate: 1, rejected: 0, unmatched: 0 });
    expect(report.problems.map((p: { lineNo: number; code: string }) => [p.lineNo, p.code])).toEqual([
      [3, 'AMOUNT_INVALID'],
      [4, 'FIELD_MISSING'],
      [5, 'LINE_DUPLICATE_IN_FILE'],
      [6, 'TRAILER_TOTAL_MISMATCH'],
    ]);
    expect(report.problems[3].message).toEqual({
      'zh-CN': '尾记录总金额 99.00 元与明细合计 65.00 元不符',
      en: 'The trailer total is 99.00 yuan, the lines add up to 65.00 yuan',
    });
    expect(await paymentsOf(a[3]!)).toEqual([
      { amount_fen: 3_000, channel: 'direct_debit', source: 'bank_file', external_ref: 'CCB:CCB-2001' },
    ]);
    expect(await paidFen(a[3]!)).toBe(3_000);
    const one = await t.as('finance')({ method: 'GET', url: `/api/bank-files/${report.fileId}` });
    expect(one.json()).toEqual(report);
  });

  it('resumes an interrupted import: what was posted stays, the rest is posted, nothing twice', async () => {
    // The state a crash after the first line leaves: the file and its lines stored, line 2 posted.
    await insertBill(a[4]!, 2_000);
    await insertBill(a[5]!, 0 + 500);
    const content = resultFile(ICBC, 'ICBC', '2611240003', [
      resultRow(a[4]!, 2_000, 'ICBC-R-1'),
      resultRow(a[5]!, 7_500, 'ICBC-R-2'),
    ]);
    const file = await t.db
      .insertInto('bank_file')
      .values({
        direction: 'import',
        bank_code: 'ICBC',
        office_id: null,
        file_name: 'crashed.txt',
        sha256: createHash('sha256').update(content).digest('hex'),
        size_bytes: content.length,
        content,
        rows: 2,
        total_fen: 9_500,
        status: 'processing',
        report: JSON.stringify({ readProblems: [] }),
        created_by: null,
      })
      .returning('file_id')
      .executeTakeFirstOrThrow();
    const fileId = Number(file.file_id);
    for (const [lineNo, c, fen, ref] of [
      [2, a[4]!, 2_000, 'ICBC-R-1'],
      [3, a[5]!, 7_500, 'ICBC-R-2'],
    ] as const)
      await t.db
        .insertInto('bank_file_row')
        .values({
          file_id: fileId,
          line_no: lineNo,
          account_ref: c.customer_code,
          account_id: c.account_id,
          amount_fen: fen,
          bank_txn_ref: ref,
          result_code: '0000',
          debited: true,
        })
        .execute();
    await t.db.transaction().execute(async (trx) => {
      const { payment } = await takePayment(trx, systemContext('crash-test'), a[4]!.account_id, {
        amountFen: 2_000,
        channel: 'direct_debit',
        source: 'bank_file',
        externalRef: 'ICBC:ICBC-R-1',
      });
      await trx
        .updateTable('bank_file_row')
        .set({ outcome: 'posted', payment_id: payment.paymentId, processed_at: new Date() })
        .where('file_id', '=', fileId)
        .where('line_no', '=', 2)
        .execute();
    });

    const res = await upload('ICBC', content, 'crashed.txt');
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ fileId, status: 'done', counts: { posted: 2, pending: 0 } });
    expect(await paymentsOf(a[4]!)).toHaveLength(1);
    expect(await paymentsOf(a[5]!)).toEqual([
      { amount_fen: 7_500, channel: 'direct_debit', source: 'bank_file', external_ref: 'ICBC:ICBC-R-2' },
    ]);
  });

  it('settles a large file in the background, and a server that starts again resumes what a crash left', async () => {
    await insertBill(extra[0]!, 3_000);
    await insertBill(extra[1]!, 4_000);
    const content = resultFile(CCB, 'CCB', '2611240009', [
      resultRow(extra[0]!, 3_000, 'CCB-BG-1', '00'),
      resultRow(extra[1]!, 4_000, 'CCB-BG-2', '00'),
    ]);
    // Larger than the synchronous limit (0 here): answered at once, still processing.
    const first = await importResultFile(t.db, systemContext('bg-test'), 'CCB', 'background.csv', content, {
      syncLines: 0,
    });
    expect(first.report.status).toBe('processing');
    await bankImportsIdle();
    const done = await t.as('finance')({ method: 'GET', url: `/api/bank-files/${first.report.fileId}` });
    expect(done.json()).toMatchObject({ status: 'done', counts: { posted: 2, pending: 0 } });
    expect(await paymentsOf(extra[0]!)).toHaveLength(1);

    // A crash mid-way: the file is left processing with a line not yet decided (its payment stands).
    await t.db
      .updateTable('bank_file')
      .set({ status: 'processing', finished_at: null })
      .where('file_id', '=', first.report.fileId)
      .execute();
    await t.db
      .updateTable('bank_file_row')
      .set({ outcome: null, payment_id: null, processed_at: null })
      .where('file_id', '=', first.report.fileId)
      .where('bank_txn_ref', '=', 'CCB-BG-2')
      .execute();
    expect(await resumeBankImports(t.db)).toEqual([first.report.fileId]);
    await bankImportsIdle();
    const resumed = await t.as('finance')({ method: 'GET', url: `/api/bank-files/${first.report.fileId}` });
    expect(resumed.json()).toMatchObject({ status: 'done', counts: { posted: 1, duplicate: 1, pending: 0 } });
    // Nothing posted twice.
    expect(await paymentsOf(extra[1]!)).toHaveLength(1);
    expect(await accountLedgerProblems(t.db, extra[1]!.account_id)).toEqual([]);
  });

  it('leaves every ledger balanced and lists the files', async () => {
    for (const c of [...a, b1]) expect(await accountLedgerProblems(t.db, c.account_id)).toEqual([]);
    const list = await t.as('finance')({
      method: 'GET',
      url: '/api/bank-files?direction=import&bankCode=ICBC',
    });
    expect(list.statusCode).toBe(200);
    expect(list.json().items.length).toBeGreaterThanOrEqual(3);
    const banks = await t.as('finance')({ method: 'GET', url: '/api/banks' });
    expect(banks.json().items.map((x: { bankCode: string }) => x.bankCode)).toEqual(['CCB', 'ICBC']);
  });
});

describe('demo mandates', () => {
  it('seeds mandates once, in the customers’ names, with numbers the table accepts', async () => {
    await t.db.deleteFrom('debit_mandate').execute();
    const added = await seedDemoMandates(t.db);
    expect(added).toBeGreaterThan(0);
    expect(await seedDemoMandates(t.db)).toBe(0);
    const banks = await t.db.selectFrom('debit_mandate').select('bank_code').distinct().execute();
    expect(banks.map((b) => b.bank_code).sort()).toEqual(['CCB', 'ICBC']);
    const preview = await t.as('finance')({ method: 'GET', url: '/api/bank-files/exports?bankCode=ICBC' });
    expect(preview.statusCode, preview.body).toBe(200);
  });
});
